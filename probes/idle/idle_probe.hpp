// idle:SERVICE — the sessions behind the idle search (idle_search.hpp). Each session connects,
// sends nothing, and lets the kernel's own keepalive elicit an ACK once it has been idle for its
// time: a segment one below the next sequence number, with no data (TCP_KEEPIDLE). Then:
//   an ACK received after that time   alive: the session survived
//   the keepalive unanswered 3 times   silence: something on the path forgot the session
//   a RST (or an ICMP error)            reset
//   a FIN from the server               server_closed: the server's own idle limit, not the path
// Sessions outlive the rounds that open them: the state of each target (its bounds and open
// sessions) lives here, keyed by address, port and options, so a reload that leaves a target
// unchanged keeps its bounds. Each session holds a descriptor from the loop's budget; at most
// `sessions` per target and kMaxSessions in all.
//
// Every socket call and timer goes through a Wire: the loop's own, or a test's fake.
// Event loop thread only.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/loop_wire.hpp"
#include "probes/idle/idle_kind.hpp"
#include "probes/idle/idle_search.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

class IdleProbe : public Probe {
  public:
    static constexpr std::size_t kMaxSessions = 256;
    // After the first keepalive, the kernel's next ones go this far apart, this many in all
    // before it gives the session up (ETIMEDOUT).
    static constexpr int kKeepaliveInterval = 3;  // seconds
    static constexpr int kKeepaliveCount = 3;
    // A target nobody polled for this long left the config: its sessions close.
    static constexpr auto kForgetAfter = std::chrono::hours(1);

    explicit IdleProbe(EventLoop& loop)
        : own_wire_(std::make_unique<LoopWire>(loop)), wire_(*own_wire_) {}
    explicit IdleProbe(Wire& wire) : wire_(wire) {}
    ~IdleProbe() override;
    void start(const ProbeRequest& request, Done done) override;
    std::size_t sessions_open() const { return open_; }

  private:
    struct Target;
    struct Session {
        Target* target = nullptr;
        int fd = -1;
        double idle_s = 0;
        bool connected = false;
        bool holds_budget = false;
        TimePoint opened{}, quiet_since{};  // quiet_since: the last thing received
        Wire::TimerId timer = 0;
    };
    struct Target {
        std::string key;
        ProbeRequest request;  // the last poll's: address, port, send options, timeout
        IdleParams params;
        IdleSearch search;
        std::vector<std::unique_ptr<Session>> sessions;
        std::array<std::uint64_t, kAllIdleCuts.size()> cuts{};
        // The last connect: a poll reports its outcome.
        bool connected_once = false;
        Outcome last = Outcome::error;
        std::optional<IpAddress> reporter;
        std::string detail = "no session yet";
        Duration connect_time{};
        std::vector<Done> waiting;  // polls waiting for the connects they asked for
        TimePoint last_poll{};
        TimePoint verify_at = TimePoint::max();
    };

    std::unique_ptr<Wire> own_wire_;  // the loop's, unless a test gave its own
    Wire& wire_;
    std::unordered_map<std::string, std::unique_ptr<Target>> targets_;
    std::size_t open_ = 0;
    TimePoint next_forget_{};  // forget_stale runs at most once a minute, not on every poll

    void top_up(Target& t);
    bool open_session(Target& t, double idle_s);
    void on_connect(Session* s);
    void on_connect_timeout(Session* s);
    void on_event(Session* s, std::uint32_t events);
    void on_check(Session* s);
    void arm_check(Session* s);
    void connect_done(Target& t, Outcome o, Duration took, std::optional<IpAddress> reporter,
                      std::string detail);
    void end(Session* s, std::optional<IdleAnswer> answer, double elapsed_s = 0);
    void close_session(Session* s);
    ProbeResult result_of(const Target& t) const;
    void forget_stale(TimePoint now);
};

}  // namespace fedprobe
