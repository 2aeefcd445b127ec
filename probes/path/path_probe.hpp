// path — Paris traceroute rounds over shared raw sockets (CAP_NET_RAW).
//
// A round sends every TTL of a flow at once rather than hop after hop, so it lasts about one
// timeout: TTLs 1 to the previous round's stop (or 8 on the first round), extended by
// `gap_limit` TTLs whenever the farthest TTL sent answers as a router or goes silent. A TTL
// without an answer after the timeout gets another attempt, up to `attempts`. The TTL at which
// the last round reached the destination (on a first round: the first TTL past the farthest
// router that answered) gets up to two more, a second apart, before its silence counts: hosts
// rate-limit their ICMP errors too (Linux: one a second per source), and every job towards any
// of the host's addresses draws on that one allowance. A silent drop costs the round 2 s more.
// Every packet after the round's first takes a slot from the destination network's rate limit
// (ProbeRequest::pacer), and packets expected at the same router (from the last round's answers)
// are `router_spacing` apart, since routers rate-limit their time-exceeded messages.
//
// Each flow keeps its identifier (source port, or ICMP identifier) from round to round, so under
// ECMP it keeps its path. Source ports are held by an ordinary bound socket, so no other program
// gets them and the kernel resets a SYN-ACK nobody asked for (the probe sends its own reset too).
//
// Sockets: IPv4 sends through one IPPROTO_RAW socket (its own header: the IP ID carries the probe
// number) and reads ICMP, TCP (SYN or RST only, filtered in the kernel) and UDP through raw
// sockets of those protocols; IPv6 sends and reads through raw ICMPv6, TCP and UDP sockets.
// With path.mtu, every mtu_every-th round whose flow 0 reached the destination goes on with a
// path MTU search over that flow (path_mtu.hpp; the driving is path_probe_mtu.cpp): padded DF
// probes with the flow's own identifier, so they take its path, each paced like the trace's.
//
// Every ICMP error's quote is compared with what was sent (path_middlebox.hpp).
//
// Two callers asking for the same flows of the same destination at once (a flow's trace and the
// regular path job of its service) share one round when their settings match, and each gets its
// result. Otherwise the second waits for the first to end and then runs its own round, since
// two rounds at once would send packets with the same identifiers. "Otherwise" is other
// settings, or a caller with PathParams::fresh (a flow's trace, which explains the flow's last
// round) finding a round that began before it asked: that round may have crossed the firewall
// before the rule that now drops the flow.
//
// The rounds are path_probe.cpp, the MTU search path_probe_mtu.cpp, and the sockets (receivers,
// senders, the ports flows hold, reading) path_probe_sockets.cpp over the Wire.
//
// Everything runs on the event loop's thread.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/loop_wire.hpp"
#include "core/socket.hpp"
#include "probes/path/path_mtu.hpp"
#include "probes/path/path_packet.hpp"
#include "probes/path/router_pacer.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

class PathProbe : public Probe {
  public:
    explicit PathProbe(EventLoop& loop) : PathProbe(std::make_unique<LoopWire>(loop), nullptr) {}
    explicit PathProbe(Wire& wire) : PathProbe(nullptr, &wire) {}
    ~PathProbe() override;
    void start(const ProbeRequest& request, Done done) override;

    struct Stats {
        std::uint64_t packets_sent = 0;
        std::uint64_t answers = 0;
        std::uint64_t late = 0;  // answers to a round that had already ended
        std::uint64_t resets_sent = 0;
        std::uint64_t router_misses = 0;  // TTLs a known router left unanswered (see RouterPacer)
    };
    const Stats& stats() const { return stats_; }
    std::vector<std::uint64_t> totals() const override {
        return {stats_.packets_sent, stats_.answers, stats_.late, stats_.resets_sent};
    }
    std::size_t rounds_in_flight() const { return rounds_.size(); }

  private:
    // Packets due within this go out in the same wake-up (trace and MTU search alike).
    static constexpr auto kSendSlack = std::chrono::milliseconds(2);
    // Confirmations of a destination's silence, and their spacing: Linux gives a source one
    // ICMP error a second after a burst of 6, so two more tries a second apart get one through
    // unless the host is busy answering others, while a host that is really gone costs the
    // round 2 s more.
    static constexpr int kEndConfirmations = 2;
    static constexpr auto kEndSpacing = std::chrono::seconds(1);
    struct FlowKey {
        int protocol = 0;
        IpAddress destination;
        std::uint16_t ident = 0;
        std::uint16_t port = 0;
        friend bool operator==(const FlowKey&, const FlowKey&) = default;
    };
    struct FlowKeyHash {
        std::size_t operator()(const FlowKey& k) const;
    };
    // What a flow remembers between rounds.
    struct Memory {
        int fd = -1;  // holds the source port (udp, tcp)
        std::uint16_t ident = 0;
        std::uint8_t generation = 0;
        int window = 0;                              // TTLs to send at once; 0: not yet known
        std::vector<std::optional<IpAddress>> hops;  // last round's answer per TTL
        TimePoint last_used{};
        int mtu_countdown = 0;  // rounds until the next MTU search (path.mtu_every)
    };
    struct TtlState {
        std::vector<std::int64_t> sent_ns;  // per attempt sent
        std::vector<TimePoint> deadline;
        int expired = 0;  // attempts whose deadline has passed unanswered
        bool queued = false;
        bool answered = false;
        PathHop hop;
    };
    struct FlowRun {
        PathFlow flow;
        FlowKey key;
        Memory* memory = nullptr;
        std::uint8_t generation = 0;
        std::vector<TtlState> ttls;  // index ttl-1, max_ttl of them
        int window = 0;              // highest TTL queued
        int stop_ttl = 0;            // lowest TTL that answered as the end (destination, reject)
        int router_ttl = 0;          // highest TTL that answered as a router
        int last_end_ttl = 0;        // the TTL at which the last round reached the destination
    };
    struct Pending {
        TimePoint when;
        std::uint32_t flow;
        int ttl;
        int attempt;
        bool paced;  // has its rate-limit slot
        bool operator>(const Pending& o) const { return when > o.when; }
    };
    // A round's MTU search, after its trace: one stage of probes at a time, each probe with up
    // to `attempts` tries.
    struct MtuRun {
        explicit MtuRun(MtuSearch s) : search(std::move(s)) {}
        MtuSearch search;
        std::vector<MtuProbe> stage;
        struct Tries {
            std::vector<std::int64_t> sent_ns;
            std::vector<TimePoint> deadline;
            bool settled = false;
        };
        std::vector<Tries> tries;
        std::vector<std::pair<TimePoint, std::size_t>> queue;  // (when, probe), to send
        Wire::TimerId timer = 0;
        std::size_t unsettled = 0;
        ProbeResult held;  // the trace's result, completed when the search ends
    };
    struct Round {
        std::uint64_t id = 0;
        ProbeRequest request;
        PathParams params;
        Done done;
        // Callers whose round would have been this one: the same flows of the same destination,
        // asked while it ran. Each gets a copy of its result (see can_join).
        std::vector<Done> joined;
        // Callers of the same flow that could not share it: each starts its own round once this
        // one is over.
        std::vector<std::pair<ProbeRequest, Done>> after;
        std::vector<FlowRun> flows;
        TimePoint started{};
        std::priority_queue<Pending, std::vector<Pending>, std::greater<>> queue;
        Wire::TimerId send_timer = 0;
        TimePoint send_at = TimePoint::max();
        Wire::TimerId check_timer = 0;
        TimePoint check_at = TimePoint::max();
        std::uint32_t packets = 0;
        int send_fd = -1;
        unsigned ifindex = 0;
        std::uint64_t drops_at_start = 0;
        std::string error;
        bool mtu_due = false;
        std::unique_ptr<MtuRun> mtu;
    };
    struct Receiver {
        int fd = -1;
        int family = AF_INET;
        int protocol = 0;
        std::uint32_t drops_seen = 0;
    };

    PathProbe(std::unique_ptr<Wire> own, Wire* wire);

    std::unique_ptr<Wire> own_wire_;  // the loop's, unless a test gave its own
    Wire& wire_;
    std::uint64_t next_round_ = 1;
    std::map<std::uint64_t, std::unique_ptr<Round>> rounds_;
    std::unordered_map<FlowKey, std::pair<std::uint64_t, std::uint32_t>, FlowKeyHash> active_;
    // Keyed by (protocol, destination, port, flow index): the flow's identity across rounds.
    std::map<std::tuple<int, std::array<std::uint8_t, 16>, std::uint16_t, int>, Memory> memory_;
    RouterPacer routers_;  // spacing for routers seen rate-limiting
    void note_router_misses(const Round& r, const FlowTrace& trace, const Memory& before,
                            TimePoint now);
    std::vector<Receiver> receivers_;
    std::map<std::pair<int, std::string>, int> send_sockets_;  // (family or protocol, device)
    PacketReceiver receiver_;
    std::uint64_t drops_total_ = 0;
    std::uint64_t drain_id_ = 0;
    TimePoint next_gc_{};
    Stats stats_;

    Status open_receivers(int family, PathMethod method);
    Result<int> send_socket(int family, int protocol, const std::string& device);
    Result<Memory*> memory_for(const PathFlow& flow, int index);
    // Puts one packet on the wire; the errno of a failed send, or 0.
    int transmit(const Round& r, const PathFlow& flow, std::span<const std::uint8_t> packet,
                 int ttl);
    void enqueue(Round& r, std::uint32_t flow, int ttl, int attempt, TimePoint now);
    // Attempts a TTL gets: path.attempts, and for the TTL at which the last round reached the
    // destination, confirmations spaced kEndSpacing apart (see kEndConfirmations).
    static int attempts_for(const Round& r, const FlowRun& f, int ttl);
    void pump(std::uint64_t id);
    void arm_send(Round& r);
    void arm_check(Round& r);
    void check(std::uint64_t id);
    void extend(Round& r, std::uint32_t flow, TimePoint now);
    bool send_one(Round& r, const Pending& p, TimePoint now);
    void drain();
    void read(Receiver& rx);
    void handle(const Receiver& rx, const PathReply& reply, std::int64_t rx_ns);
    void maybe_finish(std::uint64_t id);
    void finish(std::uint64_t id);
    void deliver(std::unique_ptr<Round> round, ProbeResult result);
    static bool can_join(const Round& running, const ProbeRequest& request,
                         const PathParams& params);
    // The MTU search (path_probe_mtu.cpp).
    std::vector<std::uint8_t> big_packet_;
    // Interface MTUs by source address and device: reading one lists every interface, so a
    // search reuses what was read within the last minute rather than asking each round.
    struct KnownMtu {
        int mtu = 0;
        TimePoint read{};
    };
    std::map<std::string, KnownMtu> interface_mtus_;
    int interface_mtu(const IpAddress& source, const std::string& device);
    void start_mtu(std::unique_ptr<Round> round, ProbeResult trace);
    void mtu_stage(std::uint64_t id);
    void mtu_step(std::uint64_t id);
    void mtu_answer(Round& r, const PathReply& reply);
    void mtu_settled(Round& r, std::size_t probe);
    void mtu_finish(std::uint64_t id);
    void fail(const ProbeRequest& request, Done done, Outcome outcome, std::string detail);
};

}  // namespace fedprobe
