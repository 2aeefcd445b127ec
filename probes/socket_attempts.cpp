#include "probes/socket_attempts.hpp"

#include <unistd.h>

#include <cstring>

namespace fedprobe {

SocketAttempts::~SocketAttempts() {
    for (auto& [fd, attempt] : attempts_) {
        loop_.remove_fd(fd);
        if (attempt.timer) loop_.cancel_timer(attempt.timer);
        close(fd);
    }
}

void SocketAttempts::watch(int fd, Attempt attempt, std::uint32_t events, Duration timeout,
                           std::function<void(int, std::uint32_t)> on_event,
                           std::function<void(int)> on_timeout) {
    if (Status st = loop_.add_fd(
            fd, events,
            [fd, on_event = std::move(on_event)](std::uint32_t ev) { on_event(fd, ev); });
        !st.ok()) {
        close(fd);
        fail_later(std::move(attempt.done), st.message());
        return;
    }
    attempt.timeout = timeout;
    attempt.timer =
        loop_.add_timer(attempt.started + timeout, [this, fd, on_timeout = std::move(on_timeout)] {
            auto it = attempts_.find(fd);
            if (it == attempts_.end()) return;
            it->second.timer = 0;
            on_timeout(fd);
        });
    attempts_.emplace(fd, std::move(attempt));
}

void SocketAttempts::decide_later(int fd, Attempt attempt, std::function<void(int)> decide) {
    attempts_.emplace(fd, std::move(attempt));
    loop_.defer([fd, decide = std::move(decide)] { decide(fd); });
}

SocketAttempts::Attempt* SocketAttempts::find(int fd) {
    auto it = attempts_.find(fd);
    return it == attempts_.end() ? nullptr : &it->second;
}

void SocketAttempts::finish(int fd, ProbeResult result) {
    auto it = attempts_.find(fd);
    if (it == attempts_.end()) return;
    Probe::Done done = std::move(it->second.done);
    if (it->second.timer) loop_.cancel_timer(it->second.timer);
    attempts_.erase(it);
    loop_.remove_fd(fd);
    close(fd);  // for TCP after a handshake: a FIN, a polite close, no data ever sent
    done(std::move(result));
}

void SocketAttempts::fail_later(Probe::Done done, std::string detail) {
    loop_.defer([done = std::move(done), detail = std::move(detail)] {
        ProbeResult r;
        r.outcome = Outcome::error;
        r.detail = detail;
        done(std::move(r));
    });
}

}  // namespace fedprobe
