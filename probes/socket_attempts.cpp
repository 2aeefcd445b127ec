#include "probes/socket_attempts.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

namespace fedprobe {

SocketAttempts::SocketAttempts(Wire& wire, Begin begin) : wire_(wire), begin_(std::move(begin)) {
    // Woken (deferred, by the loop's budget) when any probe gives a descriptor back.
    waiter_id_ = wire_.fd_budget().add_waiter([this] { pump(); });
}

SocketAttempts::~SocketAttempts() {
    wire_.fd_budget().remove_waiter(waiter_id_);
    for (auto& [id, w] : waiting_)
        wire_.cancel_timer(w.timer);
    for (auto& [fd, attempt] : attempts_) {
        wire_.unwatch(fd);
        if (attempt.timer) wire_.cancel_timer(attempt.timer);
        wire_.close(fd);
        if (attempt.budgeted) wire_.fd_budget().give();
    }
}

void SocketAttempts::admit(const ProbeRequest& request, Probe::Done done) {
    const TimePoint deadline = wire_.now() + request.timeout;
    if (waiting_.empty() && wire_.fd_budget().try_take())
        return run(request, std::move(done), deadline);
    wait(request, std::move(done), deadline, false);
}

void SocketAttempts::run(const ProbeRequest& request, Probe::Done done, TimePoint deadline) {
    holding_ = true;
    running_deadline_ = deadline;
    begin_(request, std::move(done));
    if (holding_) {  // ended in fail_later(): no socket holds the descriptor
        holding_ = false;
        wire_.fd_budget().give();
    }
}

void SocketAttempts::wait(const ProbeRequest& request, Probe::Done done, TimePoint deadline,
                          bool first) {
    // First in line (a probe put back after EMFILE): its network's turn and queue say so below.
    const std::int64_t id = next_waiting_++;
    Waiting& w = waiting_[id];
    w.deadline = deadline;
    w.done = std::move(done);
    w.request = request;
    // Probes to one network share one pacer (the engine's per-network rate limiter): it names
    // the network. Without one, all share one turn.
    w.share = request.pacer.get();
    auto& queue = shares_[w.share];
    if (queue.empty()) {
        if (first)
            turn_.push_front(w.share);
        else
            turn_.push_back(w.share);
    }
    if (first)
        queue.push_front(id);
    else
        queue.push_back(id);
    w.timer = wire_.add_timer(deadline, [this, id] {
        auto it = waiting_.find(id);
        if (it == waiting_.end()) return;
        Probe::Done d = std::move(it->second.done);
        leave_share(id, it->second.share);
        waiting_.erase(it);
        ProbeResult r;
        r.outcome = Outcome::error;
        r.overload = Overload::queued;
        r.detail = "not started: no socket free under the descriptor limit before the timeout";
        d(std::move(r));
    });
}

void SocketAttempts::leave_share(std::int64_t id, const void* share) {
    auto q = shares_.find(share);
    if (q == shares_.end()) return;
    std::erase(q->second, id);
    if (!q->second.empty()) return;
    shares_.erase(q);
    std::erase(turn_, share);
}

void SocketAttempts::pump() {
    while (!turn_.empty() && wire_.fd_budget().try_take()) {
        // The network whose turn it is gives its first probe, and goes to the back of the line.
        const void* share = turn_.front();
        turn_.pop_front();
        auto q = shares_.find(share);
        const std::int64_t id = q->second.front();
        q->second.pop_front();
        if (q->second.empty())
            shares_.erase(q);
        else
            turn_.push_back(share);
        auto it = waiting_.find(id);
        Waiting w = std::move(it->second);
        waiting_.erase(it);
        wire_.cancel_timer(w.timer);
        run(w.request, std::move(w.done), w.deadline);
    }
}

void SocketAttempts::open_failed(int err, std::string detail, const ProbeRequest& request,
                                 Probe::Done done) {
    if ((err == EMFILE || err == ENFILE) && holding_) {
        holding_ = false;
        FdBudget& budget = wire_.fd_budget();
        budget.give();
        budget.shrink_to_in_use();
        // With nothing of ours open, no give() would ever wake it: it waits out its timeout.
        return wait(request, std::move(done), running_deadline_, true);
    }
    fail_later(std::move(done), std::move(detail));
}

void SocketAttempts::watch(int fd, Attempt attempt, std::uint32_t events, Duration timeout,
                           std::function<void(int, std::uint32_t)> on_event,
                           std::function<void(int)> on_timeout) {
    if (Status st = wire_.watch(
            fd, events,
            [fd, on_event = std::move(on_event)](std::uint32_t ev) { on_event(fd, ev); });
        !st.ok()) {
        wire_.close(fd);
        fail_later(std::move(attempt.done), st.message());
        return;
    }
    attempt.timeout = timeout;
    attempt.budgeted = std::exchange(holding_, false);
    attempt.timer =
        wire_.add_timer(attempt.started + timeout, [this, fd, on_timeout = std::move(on_timeout)] {
            auto it = attempts_.find(fd);
            if (it == attempts_.end()) return;
            it->second.timer = 0;
            on_timeout(fd);
        });
    attempts_.emplace(fd, std::move(attempt));
}

void SocketAttempts::decide_later(int fd, Attempt attempt, std::function<void(int)> decide) {
    attempt.budgeted = std::exchange(holding_, false);
    attempts_.emplace(fd, std::move(attempt));
    wire_.defer([fd, decide = std::move(decide)] { decide(fd); });
}

SocketAttempts::Attempt* SocketAttempts::find(int fd) {
    auto it = attempts_.find(fd);
    return it == attempts_.end() ? nullptr : &it->second;
}

void SocketAttempts::finish(int fd, ProbeResult result) {
    auto it = attempts_.find(fd);
    if (it == attempts_.end()) return;
    Probe::Done done = std::move(it->second.done);
    if (it->second.timer) wire_.cancel_timer(it->second.timer);
    const bool budgeted = it->second.budgeted;
    attempts_.erase(it);
    wire_.unwatch(fd);
    wire_.close(fd);  // for TCP after a handshake: a FIN, a polite close, no data ever sent
    if (budgeted) wire_.fd_budget().give();
    done(std::move(result));
}

void SocketAttempts::fail_later(Probe::Done done, std::string detail) {
    wire_.defer([done = std::move(done), detail = std::move(detail)] {
        ProbeResult r;
        r.outcome = Outcome::error;
        r.detail = detail;
        done(std::move(r));
    });
}

}  // namespace fedprobe
