#include "probes/tcp_probe.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <poll.h>

#include <cerrno>
#include <cstring>

#include "core/socket.hpp"

namespace fedprobe {

std::unique_ptr<Probe> TcpKind::make_probe(EventLoop& loop) {
    return std::make_unique<TcpProbe>(loop);
}

void TcpProbe::start(const ProbeRequest& req, Done done) {
    attempts_.admit(req, std::move(done));
}

void TcpProbe::begin(const ProbeRequest& req, Done done) {
    auto opened = open_probe_socket(req.destination.family, SOCK_STREAM, IPPROTO_TCP, req.send());
    if (!opened.ok()) {
        const int err = errno;
        return attempts_.open_failed(err, opened.status().message(), req, std::move(done));
    }
    int fd = *opened;
    sockaddr_storage ss;
    socklen_t len = req.destination.to_sockaddr(req.port, ss);
    SocketAttempts::Attempt attempt{loop_.now(),     0,  req.destination,
                                    std::move(done), {}, req.timeout};
    if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) {
        // Refused or unroutable at once (a local route or an ICMP already cached): still a verdict.
        int e = errno;  // consumed: SO_ERROR would read 0 afterwards
        return attempts_.decide_later(fd, std::move(attempt), [this, e](int s) { on_ready(s, e); });
    }
    attempts_.watch(
        fd, std::move(attempt), EPOLLOUT | EPOLLERR, req.timeout,
        [this](int s, std::uint32_t) { on_ready(s); }, [this](int s) { on_timeout(s); });
}

void TcpProbe::on_ready(int fd, int connect_error) {
    auto* a = attempts_.find(fd);
    if (!a) return;
    ProbeResult r;
    r.kind = TcpResult{};
    r.duration = loop_.now() - a->started;
    int so_error = connect_error;
    socklen_t len = sizeof so_error;
    if (so_error == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0)
        so_error = errno;
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
        r.outcome = outcome_of(*q);
        r.reporter = q->offender;
        r.detail = "icmp type " + std::to_string(q->type) + " code " + std::to_string(q->code);
    } else {
        r.outcome = outcome_from_errno(so_error);
        if (r.outcome == Outcome::refused) r.reporter = a->destination;
        r.detail = std::strerror(so_error);
    }
    attempts_.finish(fd, std::move(r));
}

void TcpProbe::on_timeout(int fd) {
    auto* a = attempts_.find(fd);
    if (!a) return;
    // A busy loop may reach this deadline before the socket's readiness: ask the socket itself.
    // A connect the kernel completed before the deadline is an answer in time, however late
    // the loop notices it.
    pollfd pfd{fd, POLLOUT, 0};
    if (poll(&pfd, 1, 0) == 1) {
        tcp_info info{};
        socklen_t ilen = sizeof info;
        const auto late_by = loop_.now() - (a->started + a->timeout);
        if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &ilen) != 0 ||
            info.tcpi_state != TCP_ESTABLISHED ||
            std::chrono::milliseconds(info.tcpi_last_ack_recv) >= late_by)
            return on_ready(fd);
    }
    ProbeResult r;
    r.kind = TcpResult{};
    r.duration = loop_.now() - a->started;
    // An ICMP error may have arrived for a retransmitted SYN without failing the connect.
    if (auto q = read_error_queue(fd); q && q->from_icmp()) {
        r.outcome = outcome_of(*q);
        r.reporter = q->offender;
    } else {
        r.outcome = Outcome::filtered;
        r.detail = "no answer before the timeout";
    }
    attempts_.finish(fd, std::move(r));
}

}  // namespace fedprobe
