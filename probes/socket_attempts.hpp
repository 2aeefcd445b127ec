// Probes that use a socket each (tcp, udp): the socket, its deadline and its completion,
// kept on the event loop and closed and reported exactly once. Event loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>

#include "core/event_loop.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

class SocketAttempts {
  public:
    explicit SocketAttempts(EventLoop& loop) : loop_(loop) {}
    ~SocketAttempts();  // closes every socket and cancels every timer; no completion runs
    SocketAttempts(const SocketAttempts&) = delete;
    SocketAttempts& operator=(const SocketAttempts&) = delete;

    struct Attempt {
        TimePoint started;
        EventLoop::TimerId timer = 0;
        IpAddress destination;
        Probe::Done done;
        std::string expect;  // udp: the pattern a reply must match
        Duration timeout{};
    };

    // Watches fd for `events` (on_event) until `timeout` (on_timeout). Should the loop refuse
    // the socket, fd is closed and `done` is scheduled with that error as the result.
    void watch(int fd, Attempt attempt, std::uint32_t events, Duration timeout,
               std::function<void(int fd, std::uint32_t events)> on_event,
               std::function<void(int fd)> on_timeout);
    // An attempt that already has its verdict (a connect or send that failed at once): `decide`
    // runs on the next loop round, never inside start().
    void decide_later(int fd, Attempt attempt, std::function<void(int fd)> decide);

    Attempt* find(int fd);
    void finish(int fd, ProbeResult result);
    // Schedules `done` with an error result without any socket.
    void fail_later(Probe::Done done, std::string detail);
    std::size_t size() const { return attempts_.size(); }

  private:
    EventLoop& loop_;
    std::unordered_map<int, Attempt> attempts_;  // by socket
};

}  // namespace fedprobe
