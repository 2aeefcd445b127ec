// udp:SERVICE — one datagram, classified by what comes back: a reply (ok), ICMP port
// unreachable from the target (refused), an ICMP error from a router (prohibited/unreachable,
// with the reporter), or silence (filtered: for UDP that means open or filtered).
#pragma once

#include "probes/socket_attempts.hpp"

namespace fedprobe {

class UdpProbe : public Probe {
  public:
    explicit UdpProbe(EventLoop& loop)
        : loop_(loop),
          attempts_(loop, [this](const ProbeRequest& r, Done d) { begin(r, std::move(d)); }) {}
    void start(const ProbeRequest& request, Done done) override;
    std::size_t in_flight() const { return attempts_.size(); }

  private:
    EventLoop& loop_;
    SocketAttempts attempts_;

    void begin(const ProbeRequest& request, Done done);
    void on_event(int fd, std::uint32_t events);
    void on_timeout(int fd);
};

}  // namespace fedprobe
