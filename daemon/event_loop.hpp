// The single probing thread's loop: epoll for sockets, one timerfd for every deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

namespace fedprobe {

using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC on Linux, as timerfd uses
using TimePoint = Clock::time_point;

class EventLoop {
  public:
    using FdHandler = std::function<void(std::uint32_t events)>;
    using TimerId = std::uint64_t;

    EventLoop() = default;
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // Creates the epoll and timer descriptors; returns an error text on failure.
    std::string init();

    // 0 or an errno value.
    int add_fd(int fd, std::uint32_t events, FdHandler handler);
    int modify_fd(int fd, std::uint32_t events);
    void remove_fd(int fd);  // before close(fd)

    TimerId add_timer(TimePoint when, std::function<void()> callback);
    void cancel_timer(TimerId id);
    // Runs after the current dispatch round, so callers never re-enter themselves.
    void defer(std::function<void()> callback);

    void run();  // until stop()
    void stop() { running_ = false; }
    // One wait-and-dispatch round with a bound on the wait; for tests and benchmarks.
    void run_once(std::chrono::milliseconds max_wait);

    TimePoint now() const { return Clock::now(); }
    std::size_t pending_timers() const { return timers_.size(); }

  private:
    struct FdEntry {
        std::uint32_t generation;
        FdHandler handler;
    };
    struct TimerEntry {
        TimePoint when;
        TimerId id;
        bool operator>(const TimerEntry& o) const {
            return when > o.when || (when == o.when && id > o.id);
        }
    };

    int epoll_fd_ = -1;
    int timer_fd_ = -1;
    bool running_ = false;
    std::uint32_t next_generation_ = 1;
    std::unordered_map<int, FdEntry> fds_;
    std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timer_queue_;
    std::unordered_map<TimerId, std::function<void()>> timers_;
    TimerId next_timer_id_ = 1;
    TimePoint armed_for_ = TimePoint::max();
    std::vector<std::function<void()>> deferred_;

    void arm_timerfd();
    void fire_due_timers();
    void run_deferred();
};

}  // namespace fedprobe
