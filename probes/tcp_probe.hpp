// tcp:SERVICE — a non-blocking connect, classified by what came back and from whom.
#pragma once

#include <unordered_map>

#include "daemon/event_loop.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

class TcpProbe : public Probe {
  public:
    explicit TcpProbe(EventLoop& loop) : loop_(loop) {}
    ~TcpProbe() override;
    void start(const ProbeRequest& request, Done done) override;
    std::size_t in_flight() const { return attempts_.size(); }

  private:
    struct Attempt {
        TimePoint started;
        EventLoop::TimerId timer = 0;
        IpAddress destination;
        Done done;
    };
    EventLoop& loop_;
    std::unordered_map<int, Attempt> attempts_;  // by socket

    void on_ready(int fd);
    void on_timeout(int fd);
    void finish(int fd, ProbeResult result);
    void fail_later(Done done, Outcome outcome, std::string detail);
};

}  // namespace fedprobe
