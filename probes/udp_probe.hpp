// udp:SERVICE — one datagram, classified by what comes back: a reply (ok), ICMP port
// unreachable from the target (refused), an ICMP error from a router (prohibited/unreachable,
// with the reporter), or silence (filtered: for UDP that means open or filtered).
#pragma once

#include <unordered_map>

#include "daemon/event_loop.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

class UdpProbe : public Probe {
  public:
    explicit UdpProbe(EventLoop& loop) : loop_(loop) {}
    ~UdpProbe() override;
    void start(const ProbeRequest& request, Done done) override;
    std::size_t in_flight() const { return attempts_.size(); }

  private:
    struct Attempt {
        TimePoint started;
        EventLoop::TimerId timer = 0;
        Done done;
    };
    EventLoop& loop_;
    std::unordered_map<int, Attempt> attempts_;  // by socket

    void on_event(int fd, std::uint32_t events);
    void finish(int fd, ProbeResult result);
};

}  // namespace fedprobe
