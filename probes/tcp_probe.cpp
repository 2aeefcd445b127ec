#include "probes/tcp_probe.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "probes/socket_errors.hpp"

namespace fedprobe {

TcpProbe::~TcpProbe() {
    for (auto& [fd, attempt] : attempts_) {
        loop_.remove_fd(fd);
        loop_.cancel_timer(attempt.timer);
        close(fd);
    }
}

void TcpProbe::fail_later(Done done, Outcome outcome, std::string detail) {
    loop_.defer([done = std::move(done), outcome, detail = std::move(detail)] {
        ProbeResult r;
        r.outcome = outcome;
        r.detail = detail;
        done(std::move(r));
    });
}

void TcpProbe::start(const ProbeRequest& req, Done done) {
    int family = req.destination.family;
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0)
        return fail_later(std::move(done), Outcome::error,
                          std::string("socket: ") + std::strerror(errno));
    const char* what = "IP_RECVERR";
    int err = enable_error_queue(fd, family);
    if (err == 0) err = apply_send_options(fd, family, req.send, what);
    if (err != 0) {
        close(fd);
        return fail_later(std::move(done), Outcome::error,
                          std::string(what) + ": " + std::strerror(err));
    }
    sockaddr_storage ss;
    socklen_t len = req.destination.to_sockaddr(req.port, ss);
    Attempt attempt{loop_.now(), 0, req.destination, std::move(done)};
    int rc = connect(fd, reinterpret_cast<sockaddr*>(&ss), len);
    int connect_errno = rc == 0 ? 0 : errno;
    if (rc != 0 && connect_errno != EINPROGRESS) {
        // Refused or unroutable at once (a local route or an ICMP already cached): still a verdict.
        attempts_.emplace(fd, std::move(attempt));
        loop_.defer([this, fd] { on_ready(fd); });
        return;
    }
    if (int e = loop_.add_fd(fd, EPOLLOUT | EPOLLERR, [this, fd](std::uint32_t) { on_ready(fd); });
        e != 0) {
        close(fd);
        return fail_later(std::move(attempt.done), Outcome::error,
                          std::string("epoll: ") + std::strerror(e));
    }
    attempt.timer = loop_.add_timer(attempt.started + req.timeout, [this, fd] { on_timeout(fd); });
    attempts_.emplace(fd, std::move(attempt));
}

void TcpProbe::on_ready(int fd) {
    auto it = attempts_.find(fd);
    if (it == attempts_.end()) return;
    ProbeResult r;
    r.duration = loop_.now() - it->second.started;
    int so_error = 0;
    socklen_t len = sizeof so_error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0) so_error = errno;
    if (so_error == 0) {
        r.outcome = Outcome::ok;
        // The kernel's own handshake RTT excludes our scheduling delay; Karn's rule means it is
        // only a clean sample when the SYN was not retransmitted.
        tcp_info info{};
        socklen_t ilen = sizeof info;
        if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &ilen) == 0 && info.tcpi_rtt > 0 &&
            info.tcpi_total_retrans == 0)
            r.duration = std::chrono::microseconds(info.tcpi_rtt);
    } else if (auto q = read_error_queue(fd); q && q->from_icmp()) {
        r.outcome = q->outcome();
        r.reporter = q->offender;
        r.detail = "icmp type " + std::to_string(q->type) + " code " + std::to_string(q->code);
    } else {
        r.outcome = outcome_from_errno(so_error);
        if (r.outcome == Outcome::refused) r.reporter = it->second.destination;
        r.detail = std::strerror(so_error);
    }
    finish(fd, std::move(r));
}

void TcpProbe::on_timeout(int fd) {
    auto it = attempts_.find(fd);
    if (it == attempts_.end()) return;
    it->second.timer = 0;
    ProbeResult r;
    r.duration = loop_.now() - it->second.started;
    // An ICMP error may have arrived for a retransmitted SYN without failing the connect.
    if (auto q = read_error_queue(fd); q && q->from_icmp()) {
        r.outcome = q->outcome();
        r.reporter = q->offender;
    } else {
        r.outcome = Outcome::filtered;
        r.detail = "no answer before the timeout";
    }
    finish(fd, std::move(r));
}

void TcpProbe::finish(int fd, ProbeResult result) {
    auto it = attempts_.find(fd);
    Done done = std::move(it->second.done);
    if (it->second.timer) loop_.cancel_timer(it->second.timer);
    attempts_.erase(it);
    loop_.remove_fd(fd);
    close(fd);  // a FIN after a completed handshake: the service sees a polite close, no data
    done(std::move(result));
}

}  // namespace fedprobe
