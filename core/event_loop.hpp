// The single probing thread's loop: epoll for sockets, one timerfd for every deadline.
// Everything here runs on the thread that calls run(); nothing is thread-safe, except stop()
// from a handler on that thread.
//
// Order within one wake-up: ready sockets first, then — before any due timer fires — every
// drain hook, so a reply that already reached a socket is read before the timeout that would
// call it lost. Then timers, then deferred callbacks.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "core/fd_budget.hpp"
#include "core/status.hpp"

namespace fedprobe {

class EventLoop {
  public:
    using FdHandler = std::function<void(std::uint32_t events)>;
    using TimerId = std::uint64_t;

    EventLoop() {
        fd_budget_.set_defer([this](std::function<void()> wake) { defer(std::move(wake)); });
    }
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // Creates the epoll and timer descriptors.
    Status init();

    Status add_fd(int fd, std::uint32_t events, FdHandler handler);
    Status modify_fd(int fd, std::uint32_t events);
    void remove_fd(int fd);  // before close(fd)

    // Runs before due timers fire in every wake-up that has any: probes read what is already
    // waiting on their sockets here. Returns an id for remove_drain().
    std::uint64_t add_drain(std::function<void()> drain);
    void remove_drain(std::uint64_t id);
    // Runs every drain now: for a handler about to do a long stretch of work (thousands of
    // sends), so what already arrived is read, and its rounds end, between the stretches.
    void drain();

    TimerId add_timer(TimePoint when, std::function<void()> callback);
    void cancel_timer(TimerId id);
    // Runs after the current dispatch round, so callers never re-enter themselves.
    void defer(std::function<void()> callback);

    void run();  // until stop()
    // Ends run() as soon as the handler that calls it returns: the rest of that wake-up's
    // handlers, timers and deferred callbacks do not run, so a process told to stop while the
    // loop is behind does not first work through the backlog.
    void stop() {
        running_ = false;
        stopping_ = true;
    }
    // One wait-and-dispatch round with a bound on the wait; for tests and benchmarks.
    void run_once(std::chrono::milliseconds max_wait);

    TimePoint now() const { return Clock::now(); }
    // The descriptors that per-attempt probe sockets may hold (unlimited until the process
    // sets it from RLIMIT_NOFILE). Its waiters run deferred, after the callback that gave.
    FdBudget& fd_budget() { return fd_budget_; }
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
    bool stopping_ = false;  // stop() was called: run_once() returns at the next step
    std::uint32_t next_generation_ = 1;
    std::unordered_map<int, FdEntry> fds_;
    std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timer_queue_;
    std::unordered_map<TimerId, std::function<void()>> timers_;
    TimerId next_timer_id_ = 1;
    TimePoint armed_for_ = TimePoint::max();
    std::vector<std::function<void()>> deferred_;
    FdBudget fd_budget_;
    std::vector<std::pair<std::uint64_t, std::function<void()>>> drains_;
    std::uint64_t next_drain_id_ = 1;

    void arm_timerfd();
    void fire_due_timers();
    void run_deferred();
};

}  // namespace fedprobe
