#include "core/event_loop.hpp"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fedprobe {

namespace {
constexpr std::uint64_t kTimerTag = ~std::uint64_t{0};
}

EventLoop::~EventLoop() {
    if (timer_fd_ >= 0) close(timer_fd_);
    if (epoll_fd_ >= 0) close(epoll_fd_);
}

Status EventLoop::init() {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) return Status::from_errno("epoll_create1", errno);
    timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (timer_fd_ < 0) return Status::from_errno("timerfd_create", errno);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kTimerTag;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, timer_fd_, &ev) != 0)
        return Status::from_errno("epoll_ctl(timerfd)", errno);
    return {};
}

Status EventLoop::add_fd(int fd, std::uint32_t events, FdHandler handler) {
    std::uint32_t gen = next_generation_++;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = (std::uint64_t{gen} << 32) | static_cast<std::uint32_t>(fd);
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0)
        return Status::from_errno("epoll_ctl", errno);
    fds_[fd] = FdEntry{gen, std::move(handler)};
    return {};
}

Status EventLoop::modify_fd(int fd, std::uint32_t events) {
    auto it = fds_.find(fd);
    if (it == fds_.end()) return Status::from_errno("epoll_ctl", ENOENT);
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = (std::uint64_t{it->second.generation} << 32) | static_cast<std::uint32_t>(fd);
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) != 0)
        return Status::from_errno("epoll_ctl", errno);
    return {};
}

std::uint64_t EventLoop::add_drain(std::function<void()> drain) {
    drains_.emplace_back(next_drain_id_, std::move(drain));
    return next_drain_id_++;
}

void EventLoop::remove_drain(std::uint64_t id) {
    std::erase_if(drains_, [id](const auto& d) { return d.first == id; });
}

void EventLoop::drain() {
    for (std::size_t i = 0; i < drains_.size() && !stopping_; ++i)
        drains_[i].second();
}

void EventLoop::remove_fd(int fd) {
    if (fds_.erase(fd) > 0) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

EventLoop::TimerId EventLoop::add_timer(TimePoint when, std::function<void()> callback) {
    TimerId id = next_timer_id_++;
    timers_.emplace(id, std::move(callback));
    timer_queue_.push(TimerEntry{when, id});
    if (when < armed_for_) arm_timerfd();
    return id;
}

void EventLoop::cancel_timer(TimerId id) {
    timers_.erase(id);
}  // its queue entry is skipped later

void EventLoop::defer(std::function<void()> callback) {
    deferred_.push_back(std::move(callback));
}

void EventLoop::arm_timerfd() {
    while (!timer_queue_.empty() && !timers_.count(timer_queue_.top().id))
        timer_queue_.pop();
    itimerspec spec{};
    if (timer_queue_.empty()) {
        armed_for_ = TimePoint::max();
    } else {
        armed_for_ = timer_queue_.top().when;
        auto ns =
            std::chrono::duration_cast<std::chrono::nanoseconds>(armed_for_.time_since_epoch())
                .count();
        if (ns <= 0) ns = 1;  // zero would disarm
        spec.it_value.tv_sec = ns / 1'000'000'000;
        spec.it_value.tv_nsec = ns % 1'000'000'000;
    }
    // Cannot fail with a valid fd and an absolute time; were it to, the next epoll_wait's own
    // bound (run()'s 1 s) still fires the timers.
    (void)timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
}

void EventLoop::fire_due_timers() {
    std::uint64_t expirations;
    (void)!read(timer_fd_, &expirations, sizeof expirations);  // one read clears it; EAGAIN is fine
    TimePoint now = Clock::now();
    while (!stopping_ && !timer_queue_.empty() && timer_queue_.top().when <= now) {
        TimerId id = timer_queue_.top().id;
        timer_queue_.pop();
        auto it = timers_.find(id);
        if (it == timers_.end()) continue;
        auto cb = std::move(it->second);
        timers_.erase(it);
        cb();
    }
    arm_timerfd();
}

void EventLoop::run_deferred() {
    while (!deferred_.empty() && !stopping_) {
        auto batch = std::move(deferred_);
        deferred_.clear();
        for (auto& cb : batch) {
            if (stopping_) break;
            cb();
        }
    }
}

void EventLoop::run_once(std::chrono::milliseconds max_wait) {
    epoll_event events[256];
    // Work deferred from outside a dispatch (a probe started before run(), or by a test) must
    // not wait behind a poll that blocks.
    const int wait_ms = deferred_.empty() ? static_cast<int>(max_wait.count()) : 0;
    int n = epoll_wait(epoll_fd_, events, 256, wait_ms);
    if (n < 0 && errno != EINTR) return;
    bool timers_due = false;
    for (int i = 0; i < n; ++i) {
        std::uint64_t tag = events[i].data.u64;
        if (tag == kTimerTag) {
            timers_due = true;
            continue;
        }
        int fd = static_cast<int>(tag & 0xffffffffu);
        auto it = fds_.find(fd);
        // A handler earlier in this batch may have closed fd and another socket reused the number.
        if (it == fds_.end() || it->second.generation != (tag >> 32)) continue;
        auto handler = it->second.handler;  // the handler may remove itself
        handler(events[i].events);
        if (stopping_) return;
    }
    if (timers_due || (!timer_queue_.empty() && timer_queue_.top().when <= Clock::now())) {
        // A socket's handler may have read only part of what waits (batches are bounded so one
        // socket cannot starve the others); what has arrived must be read before any deadline
        // is judged, or a busy loop turns its own slowness into lost replies.
        drain();
        fire_due_timers();
    }
    if (stopping_) return;
    run_deferred();
}

void EventLoop::run() {
    running_ = true;
    stopping_ = false;
    run_deferred();
    while (running_)
        run_once(std::chrono::milliseconds(1000));
}

}  // namespace fedprobe
