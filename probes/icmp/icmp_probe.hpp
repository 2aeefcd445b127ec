// icmp — echo rounds to many targets over one shared socket per (IP version, DF) pair.
// Unprivileged ping sockets where net.ipv4.ping_group_range allows, raw sockets (CAP_NET_RAW)
// otherwise. Replies are matched by the key and nonce each request carries, never by a
// socket per probe, so the cost of a target is one slot in a ring while its round runs.
// Requests are queued and sent in batches (sendmmsg), at the latest when the current dispatch
// ends and always before the sockets are read.
// A reply counts when the kernel received it before the round's deadline, however late the
// loop reads it: the sockets are drained before any timeout fires. Replies the kernel dropped
// because the loop fell behind (SO_RXQ_OVFL) make the rounds they may belong to `overloaded`,
// never lost. Every socket call, clock reading and timer goes through a Wire: the loop's own,
// or a test's fake. Runs on the event loop's thread only.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/boxed.hpp"
#include "core/due_queue.hpp"
#include "core/loop_wire.hpp"
#include "core/socket.hpp"
#include "probes/icmp/echo_matcher.hpp"
#include "probes/icmp/icmp_packet.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

class IcmpProbe : public Probe {
  public:
    explicit IcmpProbe(EventLoop& loop) : IcmpProbe(std::make_unique<LoopWire>(loop), nullptr) {}
    explicit IcmpProbe(Wire& wire) : IcmpProbe(nullptr, &wire) {}
    ~IcmpProbe() override;
    void start(const ProbeRequest& request, Done done) override;

    struct Stats {
        std::uint64_t late = 0;        // replies after their round ended
        std::uint64_t unmatched = 0;   // our marker, but no request (wrong nonce, source)
        std::uint64_t duplicates = 0;  // replies to a request already answered
        std::uint64_t rx_dropped = 0;  // packets the kernel dropped: the socket's buffer was full
    };
    const Stats& stats() const { return stats_; }
    std::vector<std::uint64_t> totals() const override {
        return {stats_.late, stats_.unmatched, stats_.duplicates, stats_.rx_dropped};
    }
    std::size_t rounds_in_flight() const { return rounds_.size() - free_rounds_.size(); }
    // "ping" or "raw" once a socket of that family exists, else "".
    std::string socket_kind(int family) const;

  private:
    // Reads replies, and on raw sockets the ICMP errors, for one ping socket, or for every raw
    // socket of an IP version: the kernel copies each ICMP message to every raw socket that lets
    // it through, so two that read would see each reply twice (a false duplicate, then late).
    struct Receiver {
        int fd = -1;
        int family = AF_INET;
        bool raw = false;
        std::uint32_t drops_seen = 0;                // SO_RXQ_OVFL's running total, last read
        TimePoint last_overflow = TimePoint::min();  // when drops were last noticed
    };
    // Sends for one (IP version, DF) pair. A raw one only sends (it blocks every ICMP message,
    // and is not in the loop, so the kernel never wakes the loop for it); a ping socket is its own
    // receiver, as the kernel hands each its own replies.
    struct Socket {
        int fd = -1;
        Receiver* receiver = nullptr;
        PacketSender sender;  // requests queued for its next sendmmsg
    };
    // One round in flight. It keeps only what sending and judging need, not the request and a
    // ProbeResult (whose per-kind variant is sized by the largest kind): at 100,000 targets the
    // rounds in flight at a busy moment took 80 MB at 600 bytes each.
    // The first error (or the ICMP error that answered): the round's verdict without replies.
    struct ErrorSeen {
        Outcome outcome = Outcome::error;
        std::optional<IpAddress> reporter;
        std::string detail;
    };
    // Its params and send options are the job's own boxes, shared, not copies: a network that
    // goes silent keeps a timeout's worth of rounds (90,000 at 100,000 targets a second) in
    // memory, and they were 312 bytes each.
    struct Round {
        bool active = false;
        unsigned ifindex = 0;
        std::uint32_t nonce = 0;
        int sent = 0;
        int resolved = 0;  // answered or errored
        Done done;
        IpAddress destination;
        Duration timeout{};
        Boxed<IcmpParams> params;
        Boxed<SendOptions> send;  // empty: the system's defaults
        TimePoint started{};
        std::int64_t deadline_ns = 0;  // kernel time after which a reply is late; 0: not yet set
        Wire::TimerId timer = 0;       // the next packet's (the timeout is in timeouts_)
        std::uint32_t generation = 0;  // bumped as the round ends: its timeout no longer counts
        std::unique_ptr<ErrorSeen> error;  // null until one is seen, as for most rounds
        IcmpResult icmp;
        Socket* socket = nullptr;
        std::vector<std::uint32_t> keys;

        const IcmpParams& icmp_params() const { return *params; }
        const std::optional<IpAddress>& source() const {
            static const std::optional<IpAddress> none;
            return send ? send->source : none;
        }
        void set_error(Outcome outcome, std::optional<IpAddress> reporter, std::string detail) {
            error = std::make_unique<ErrorSeen>(
                ErrorSeen{outcome, std::move(reporter), std::move(detail)});
        }
    };
    IcmpProbe(std::unique_ptr<Wire> own, Wire* wire);

    std::unique_ptr<Wire> own_wire_;  // the loop's, unless a test gave its own
    Wire& wire_;
    std::array<Socket, 4> sockets_{};      // [v6][df]
    std::array<Receiver, 4> receivers_{};  // ping: beside its socket; raw: [v6][0] for both
    std::optional<bool> raw_sockets_;      // set by the first socket: raw, or ping sockets
    std::vector<Round> rounds_;
    std::vector<std::uint32_t> free_rounds_;
    EchoMatcher matcher_;
    std::uint64_t rng_state_;
    Stats stats_;
    PacketReceiver packets_in_;  // the batch buffers every Receiver reads into
    std::uint64_t drain_id_ = 0;
    // Every round's timeout, in one loop timer for the earliest: a timer per round was a hash
    // node and a heap entry each, and one in ten CPU-us went to the heap at 100,000 targets.
    struct Timeout {
        TimePoint when;
        std::uint32_t id;          // the round's index
        std::uint32_t generation;  // the round's when set: a later one means it ended early
    };
    DueQueue<Timeout> timeouts_;  // a lane per timeout value: set at now + timeout, so in order
    // A later verdict costs nothing (replies are judged by their kernel timestamps against the
    // deadline), so rounds that end within this of each other share one wake-up.
    static constexpr Duration kTimeoutCoalesce = std::chrono::milliseconds(5);
    Wire::TimerId timeout_timer_ = 0;
    TimePoint timeout_timer_at_{};
    bool flush_deferred_ = false;  // a flush of every socket's queue waits on the loop
    // Expires with the probe, so a flush deferred on the loop never runs on a probe that is gone.
    std::shared_ptr<char> alive_ = std::make_shared<char>();

    Socket* socket_for(int family, bool df, std::string& error);
    // Sets fd up to read replies (timestamps, drop counts, errors, a larger buffer) and watches
    // it on the loop.
    Status open_receiver(Receiver& rx, int fd, int family, bool raw);
    std::uint32_t random32();
    // `now`: the caller's reading of the loop's clock (a round's first packet shares its start's).
    void send_next(std::uint32_t round_index, TimePoint now);
    // Sends what waits in the sockets' queues; each request's time is taken just before its
    // batch goes, so an RTT does not include the wait in the queue.
    void flush(Socket& s);
    void flush_all();
    void on_sent(std::uint32_t round_index, std::uint32_t key, int err, std::int64_t sent_ns);
    // Reads what waits on rx: at most max_batches batches (0: until it is empty).
    void on_readable(Receiver& rx, unsigned max_batches);
    void on_error_queue(Receiver& rx);
    void handle(int family, const IcmpMessage& m, const IpAddress& from, std::int64_t rx_ns);
    void finish(std::uint32_t round_index);
    // Ends the rounds whose timeout has come, then sets the timer for the next.
    void on_timeouts();
    void arm_timeouts();
};

}  // namespace fedprobe
