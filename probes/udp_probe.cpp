#include "probes/udp_probe.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "probes/socket_errors.hpp"

namespace fedprobe {

UdpProbe::~UdpProbe() {
    for (auto& [fd, attempt] : attempts_) {
        loop_.remove_fd(fd);
        loop_.cancel_timer(attempt.timer);
        close(fd);
    }
}

void UdpProbe::start(const ProbeRequest& req, Done done) {
    auto fail = [&](std::string detail) {
        loop_.defer([done = std::move(done), detail = std::move(detail)] {
            ProbeResult r;
            r.outcome = Outcome::error;
            r.detail = detail;
            done(std::move(r));
        });
    };
    const int family = req.destination.family;
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
    if (fd < 0) return fail(std::string("socket: ") + std::strerror(errno));
    const char* what = "IP_RECVERR";
    int err = enable_error_queue(fd, family);
    if (err == 0) err = apply_send_options(fd, family, req.send, what);
    sockaddr_storage ss;
    socklen_t len = req.destination.to_sockaddr(req.port, ss);
    // Connected: the kernel hands this socket only the target's replies and the ICMP errors
    // about its datagrams.
    if (err == 0 && connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0)
        what = "connect", err = errno;
    if (err != 0) {
        close(fd);
        return fail(std::string(what) + ": " + std::strerror(err));
    }
    Attempt attempt{loop_.now(), 0, std::move(done)};
    // A payload that names fedprobe, so the far end's admin can tell what it is.
    const std::string& payload =
        req.payload.empty() ? std::string("fedprobe udp probe") : req.payload;
    if (send(fd, payload.data(), payload.size(), 0) < 0) {
        int e = errno;
        attempts_.emplace(fd, std::move(attempt));
        loop_.defer([this, fd, e] {
            ProbeResult r;
            r.outcome =
                outcome_from_errno(e) == Outcome::ok ? Outcome::error : outcome_from_errno(e);
            r.detail = std::string("send: ") + std::strerror(e);
            finish(fd, std::move(r));
        });
        return;
    }
    if (int e = loop_.add_fd(fd, EPOLLIN | EPOLLERR,
                             [this, fd](std::uint32_t ev) { on_event(fd, ev); });
        e != 0) {
        close(fd);
        return fail(std::string("epoll: ") + std::strerror(e));
    }
    attempt.timer = loop_.add_timer(attempt.started + req.timeout, [this, fd] {
        auto it = attempts_.find(fd);
        if (it == attempts_.end()) return;
        it->second.timer = 0;
        ProbeResult r;
        r.outcome = Outcome::filtered;  // open|filtered: UDP cannot tell silence apart
        r.detail = "no answer before the timeout (open or filtered)";
        r.duration = loop_.now() - it->second.started;
        finish(fd, std::move(r));
    });
    attempts_.emplace(fd, std::move(attempt));
}

void UdpProbe::on_event(int fd, std::uint32_t events) {
    auto it = attempts_.find(fd);
    if (it == attempts_.end()) return;
    ProbeResult r;
    r.duration = loop_.now() - it->second.started;
    if (events & EPOLLERR) {
        if (auto q = read_error_queue(fd); q && q->from_icmp()) {
            r.outcome = q->outcome();
            r.reporter = q->offender;
            r.detail = "icmp type " + std::to_string(q->type) + " code " + std::to_string(q->code);
            return finish(fd, std::move(r));
        }
    }
    char buf[2048];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n >= 0) {
        r.outcome = Outcome::ok;
    } else if (errno == EAGAIN) {
        return;  // spurious wake-up
    } else {
        r.outcome = outcome_from_errno(errno);
        r.detail = std::string("recv: ") + std::strerror(errno);
    }
    finish(fd, std::move(r));
}

void UdpProbe::finish(int fd, ProbeResult result) {
    auto it = attempts_.find(fd);
    Done done = std::move(it->second.done);
    if (it->second.timer) loop_.cancel_timer(it->second.timer);
    attempts_.erase(it);
    loop_.remove_fd(fd);
    close(fd);
    done(std::move(result));
}

}  // namespace fedprobe
