// udp:SERVICE — one datagram, classified by what comes back: a reply (ok), ICMP port
// unreachable from the target (refused), an ICMP error from a router (prohibited/unreachable,
// with the reporter), or silence (filtered: for UDP that means open or filtered).
// Every socket call goes through a Wire: the loop's own (LoopWire), or a test's fake.
// Event loop thread only.
#pragma once

#include <memory>

#include "core/loop_wire.hpp"
#include "probes/socket_attempts.hpp"

namespace fedprobe {

class UdpProbe : public Probe {
  public:
    explicit UdpProbe(EventLoop& loop) : UdpProbe(std::make_unique<LoopWire>(loop), nullptr) {}
    explicit UdpProbe(Wire& wire) : UdpProbe(nullptr, &wire) {}
    void start(const ProbeRequest& request, Done done) override;
    std::size_t in_flight() const { return attempts_.size(); }

  private:
    UdpProbe(std::unique_ptr<Wire> own, Wire* wire)
        : own_wire_(std::move(own)),
          wire_(wire ? *wire : *own_wire_),
          attempts_(wire_, [this](const ProbeRequest& r, Done d) { begin(r, std::move(d)); }) {}

    std::unique_ptr<Wire> own_wire_;  // the loop's, unless a test gave its own
    Wire& wire_;
    SocketAttempts attempts_;

    void begin(const ProbeRequest& request, Done done);
    void on_event(int fd, std::uint32_t events);
    void on_timeout(int fd);
};

}  // namespace fedprobe
