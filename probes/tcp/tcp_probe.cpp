#include "probes/tcp/tcp_probe.hpp"

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "core/socket.hpp"
#include "probes/connect_outcome.hpp"

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
    judge_connect(fd, connect_error, a->destination, r);
    attempts_.finish(fd, std::move(r));
}

void TcpProbe::on_timeout(int fd) {
    auto* a = attempts_.find(fd);
    if (!a) return;
    if (connected_in_time(fd, loop_.now() - (a->started + a->timeout))) return on_ready(fd);
    ProbeResult r;
    r.kind = TcpResult{};
    r.duration = loop_.now() - a->started;
    judge_connect_timeout(fd, r);
    attempts_.finish(fd, std::move(r));
}

}  // namespace fedprobe
