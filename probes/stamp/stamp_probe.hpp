// The stamp kind's Session-Sender: one long-lived UDP session per target (its own connected
// socket, so the reflector sees one source port and keeps one count), a round of test packets
// per poll, and the replies matched back by sequence number. See stamp_kind.hpp for what a
// round reports. Every socket call and clock reading goes through a Wire: the loop's own, or a
// test's fake.
//
// Threads: the event loop's thread only.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/loop_wire.hpp"
#include "core/socket.hpp"
#include "probes/probe.hpp"
#include "probes/stamp/stamp_kind.hpp"
#include "probes/stamp/stamp_loss.hpp"
#include "probes/stamp/stamp_packet.hpp"

namespace fedprobe {

class StampProbe : public Probe {
  public:
    explicit StampProbe(EventLoop& loop)
        : own_wire_(std::make_unique<LoopWire>(loop)), wire_(*own_wire_) {}
    explicit StampProbe(Wire& wire) : wire_(wire) {}
    ~StampProbe() override;
    void start(const ProbeRequest& request, Done done) override;
    std::size_t sessions() const { return sessions_.size(); }

  private:
    struct Sent {
        std::int64_t t1_ns = 0;
        double rtt = -1;  // s, dwell removed; -1 until its reply
    };
    struct Round {
        Done done;
        TimePoint started;
        Duration timeout{};
        std::uint32_t first_seq = 0;
        int packets = 0;
        std::vector<Sent> sent;
        std::vector<double> forward, backward;  // one-way delays (synchronised clocks)
        double best_rtt = -1;                   // the quickest exchange's, and its offset
        double best_offset = 0;
        int send_errno = 0;   // the first failed send's
        int undecodable = 0;  // answers that did not decode
        std::optional<int> dscp_received;
        std::optional<bool> translated;
        std::optional<QueuedError> icmp;
        Wire::TimerId timer = 0;
        std::shared_ptr<RateLimiter> pacer;
    };
    struct Session {
        int fd = -1;
        IpAddress destination;
        std::uint16_t port = 0;
        IpAddress local;
        std::uint16_t local_port = 0;
        StampParams params;
        std::uint32_t next_seq = 0;
        StampLoss loss;
        std::uint64_t reported_forward = 0, reported_backward = 0;
        std::unique_ptr<Round> round;
        TimePoint last_used;
        std::string seen;  // the address the reflector last reported, for the log only
    };

    std::unique_ptr<Wire> own_wire_;  // the loop's, unless a test gave its own
    Wire& wire_;
    std::unordered_map<std::string, std::unique_ptr<Session>> sessions_;
    std::vector<std::uint8_t> buffer_ = std::vector<std::uint8_t>(65535);  // one datagram
    TimePoint next_forget_{};

    Result<Session*> session_for(const ProbeRequest& req);
    void send_next(Session& s);
    void on_event(Session& s, std::uint32_t events);
    void on_reply(Session& s, std::span<const std::uint8_t> data, std::int64_t rx_ns);
    void finish(Session& s);
    void close_session(Session& s);
    void forget_stale(TimePoint now);
};

}  // namespace fedprobe
