// tcp:SERVICE — a non-blocking connect, classified by what came back and from whom.
#pragma once

#include "core/loop_wire.hpp"
#include "probes/socket_attempts.hpp"

namespace fedprobe {

class TcpProbe : public Probe {
  public:
    explicit TcpProbe(EventLoop& loop)
        : loop_(loop),
          wire_(loop),
          attempts_(wire_, [this](const ProbeRequest& r, Done d) { begin(r, std::move(d)); }) {}
    void start(const ProbeRequest& request, Done done) override;
    std::size_t in_flight() const { return attempts_.size(); }
    std::size_t waiting() const { return attempts_.waiting(); }

  private:
    EventLoop& loop_;
    LoopWire wire_;  // SocketAttempts' sockets and timers; the connect itself reads TCP_INFO
    SocketAttempts attempts_;

    void begin(const ProbeRequest& request, Done done);
    void on_ready(int fd, int connect_error = 0);
    void on_timeout(int fd);
};

}  // namespace fedprobe
