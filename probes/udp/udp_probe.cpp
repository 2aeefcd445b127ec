#include "probes/udp/udp_probe.hpp"

#include <regex.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "core/socket.hpp"

namespace fedprobe {

std::unique_ptr<Probe> UdpKind::make_probe(EventLoop& loop) {
    return std::make_unique<UdpProbe>(loop);
}

void UdpProbe::start(const ProbeRequest& req, Done done) {
    attempts_.admit(req, std::move(done));
}

void UdpProbe::begin(const ProbeRequest& req, Done done) {
    const UdpParams& udp = req.as<UdpKind>();
    auto opened = wire_.open(req.destination.family, SOCK_DGRAM, IPPROTO_UDP, req.send());
    if (!opened.ok()) {
        const int err = errno;
        return attempts_.open_failed(err, opened.status().message(), req, std::move(done));
    }
    int fd = *opened;
    // Connected: the kernel hands this socket only the target's replies and the ICMP errors
    // about its datagrams.
    if (wire_.connect(fd, req.destination, req.port) != 0) {
        int e = errno;
        wire_.close(fd);
        return attempts_.fail_later(std::move(done), std::string("connect: ") + std::strerror(e));
    }
    SocketAttempts::Attempt attempt{wire_.now(),     0,          req.destination,
                                    std::move(done), udp.expect, req.timeout};
    // A payload that names fedprobe, so the far end's admin can tell what it is.
    const std::string payload =
        udp.payload.empty() ? std::string("fedprobe udp probe") : udp.payload;
    const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(payload.data()),
                                              payload.size());
    if (wire_.send(fd, bytes) < 0) {
        int e = errno;
        return attempts_.decide_later(fd, std::move(attempt), [this, e](int s) {
            ProbeResult r;
            r.kind = UdpResult{};
            r.outcome =
                outcome_from_errno(e) == Outcome::ok ? Outcome::error : outcome_from_errno(e);
            r.detail = std::string("send: ") + std::strerror(e);
            attempts_.finish(s, std::move(r));
        });
    }
    attempts_.watch(
        fd, std::move(attempt), EPOLLIN | EPOLLERR, req.timeout,
        [this](int s, std::uint32_t ev) { on_event(s, ev); }, [this](int s) { on_timeout(s); });
}

void UdpProbe::on_event(int fd, std::uint32_t events) {
    auto* a = attempts_.find(fd);
    if (!a) return;
    ProbeResult r;
    r.kind = UdpResult{};
    r.duration = wire_.now() - a->started;
    if (events & EPOLLERR) {
        if (auto q = wire_.read_error(fd); q && q->from_icmp()) {
            r.outcome = outcome_of(*q);
            r.reporter = q->offender;
            r.detail = "icmp type " + std::to_string(q->type) + " code " + std::to_string(q->code);
            return attempts_.finish(fd, std::move(r));
        }
    }
    std::uint8_t buf[2048];
    ssize_t n = wire_.receive(fd, buf);
    if (n >= 0) {
        r.outcome = Outcome::ok;
        if (!a->expect.empty()) {  // the service answered; is it the answer this service gives?
            regex_t re;
            std::string reply(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
            if (regcomp(&re, a->expect.c_str(), REG_EXTENDED | REG_NOSUB) != 0) {
                r.outcome = Outcome::error;
                r.detail = "expect does not compile";
            } else {
                if (regexec(&re, reply.c_str(), 0, nullptr, 0) != 0) {
                    r.outcome = Outcome::mismatch;
                    r.detail = "the reply does not match /" + a->expect + "/";
                }
                regfree(&re);
            }
        }
    } else if (errno == EAGAIN) {
        return;  // spurious wake-up
    } else {
        r.outcome = outcome_from_errno(errno);
        r.detail = std::string("recv: ") + std::strerror(errno);
    }
    attempts_.finish(fd, std::move(r));
}

void UdpProbe::on_timeout(int fd) {
    // A busy loop may reach this deadline before the socket's readiness: what already waits on
    // the socket (a reply or an ICMP error) is the answer.
    on_event(fd, EPOLLIN | EPOLLERR);
    auto* a = attempts_.find(fd);
    if (!a) return;
    ProbeResult r;
    r.kind = UdpResult{};
    r.outcome = Outcome::filtered;  // open|filtered: UDP cannot tell silence apart
    r.detail = "no answer before the timeout (open or filtered)";
    r.duration = wire_.now() - a->started;
    attempts_.finish(fd, std::move(r));
}

}  // namespace fedprobe
