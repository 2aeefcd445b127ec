// icmp — echo rounds to many targets over one shared socket per (IP version, DF) pair.
// Unprivileged ping sockets where net.ipv4.ping_group_range allows, raw sockets (CAP_NET_RAW)
// otherwise. Replies are matched by the key and nonce each request carries, never by a
// socket per probe, so the cost of a target is one slot in a ring while its round runs.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "daemon/event_loop.hpp"
#include "probes/echo_matcher.hpp"
#include "probes/icmp_packet.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

class IcmpProbe : public Probe {
  public:
    explicit IcmpProbe(EventLoop& loop);
    ~IcmpProbe() override;
    void start(const ProbeRequest& request, Done done) override;

    struct Stats {
        std::uint64_t late = 0;  // replies after their round ended
        std::uint64_t unmatched =
            0;  // carried our marker but matched no request (wrong nonce, source)
    };
    const Stats& stats() const { return stats_; }
    std::size_t rounds_in_flight() const { return rounds_.size() - free_rounds_.size(); }
    // "ping" or "raw" once a socket of that family exists, else "".
    std::string socket_kind(int family) const;

  private:
    struct Socket {
        int fd = -1;
        int family = AF_INET;
        bool raw = false;
    };
    struct Round {
        bool active = false;
        Done done;
        ProbeRequest request;
        unsigned ifindex = 0;
        std::uint32_t nonce = 0;
        TimePoint started{};
        EventLoop::TimerId timer = 0;
        int sent = 0;
        int resolved = 0;  // answered or errored
        ProbeResult result;
        bool have_error = false;
        Socket* socket = nullptr;
        std::vector<std::uint32_t> keys;
    };
    EventLoop& loop_;
    std::array<Socket, 4> sockets_{};  // [v6][df]
    std::vector<Round> rounds_;
    std::vector<std::uint32_t> free_rounds_;
    EchoMatcher matcher_;
    std::uint64_t rng_state_;
    Stats stats_;

    Socket* socket_for(int family, bool df, std::string& error);
    std::uint32_t random32();
    void send_next(std::uint32_t round_index);
    void on_readable(Socket& s);
    void on_error_queue(Socket& s);
    void handle(int family, const IcmpMessage& m, const IpAddress& from, std::int64_t rx_ns);
    void finish(std::uint32_t round_index);
};

}  // namespace fedprobe
