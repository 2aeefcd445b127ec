#include "probes/app/app_probe.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "probes/connect_outcome.hpp"

namespace fedprobe {

namespace {

std::uint16_t local_port_of(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
    auto ep = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss));
    return ep ? ep->port : 0;
}

bool is_reset(int err) {
    return err == ECONNRESET || err == EPIPE;
}

}  // namespace

AppProbe::AppProbe(EventLoop& loop, MakeDialogue make)
    : loop_(loop),
      make_(std::move(make)),
      resets_(loop),
      attempts_(loop, [this](const ProbeRequest& r, Done d) { begin(r, std::move(d)); }) {}

AppProbe::~AppProbe() = default;

void AppProbe::start(const ProbeRequest& request, Done done) {
    attempts_.admit(request, std::move(done));
}

void AppProbe::begin(const ProbeRequest& req, Done done) {
    auto opened = open_probe_socket(req.destination.family, SOCK_STREAM, IPPROTO_TCP, req.send());
    if (!opened.ok()) {
        const int err = errno;
        return attempts_.open_failed(err, opened.status().message(), req, std::move(done));
    }
    const int fd = *opened;
    Session s;
    s.dialogue = make_(req);
    s.remote = req.destination;
    s.remote_port = req.port;
    sockaddr_storage ss;
    socklen_t len = req.destination.to_sockaddr(req.port, ss);
    SocketAttempts::Attempt attempt{loop_.now(),     0,  req.destination,
                                    std::move(done), {}, req.timeout};
    const bool failed_at_once =
        connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS;
    const int err = failed_at_once ? errno : 0;
    // Bound to a port now: watch its SYN-ACK's TTL before any drain could pass it by.
    s.local_port = local_port_of(fd);
    if (!failed_at_once && s.local_port)
        s.watched = resets_.watch(s.remote, s.remote_port, s.local_port);
    sessions_.emplace(fd, std::move(s));
    if (failed_at_once)
        return attempts_.decide_later(fd, std::move(attempt),
                                      [this, err](int f) { on_connect(f, err); });
    attempts_.watch(
        fd, std::move(attempt), EPOLLOUT | EPOLLERR, req.timeout,
        [this](int f, std::uint32_t ev) { on_event(f, ev); }, [this](int f) { on_timeout(f); });
}

void AppProbe::on_event(int fd, std::uint32_t events) {
    auto it = sessions_.find(fd);
    if (it == sessions_.end()) return;
    Session& s = it->second;
    if (!s.connected) return on_connect(fd, 0);
    if ((events & EPOLLOUT) && !flush(fd, s)) return;
    if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP))) return;
    char buf[16 * 1024];
    // A few reads per wakeup, so one chatty peer cannot hold the loop; the dialogue bounds what
    // it keeps.
    for (int i = 0; i < 4; ++i) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            // Servers that write a PDU in two pieces (DCMTK) would otherwise wait 40 ms for our
            // delayed ACK under Nagle: the exchange's time would be the stacks', not the network's.
            int on = 1;
            (void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);
            s.received += static_cast<std::size_t>(n);
            apply(fd, s, s.dialogue->received({buf, static_cast<std::size_t>(n)}));
            if (!sessions_.count(fd)) return;  // finished
            // A short read emptied the socket: the next recv would only say EAGAIN.
            if (static_cast<std::size_t>(n) < sizeof buf) return;
            continue;
        }
        if (n == 0) return finish(fd, s.dialogue->closed());
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        if (is_reset(errno)) return on_reset(fd, s);
        return finish(fd, AppVerdict{Outcome::error, std::string("recv: ") + std::strerror(errno)});
    }
}

void AppProbe::on_connect(int fd, int connect_error) {
    auto* a = attempts_.find(fd);
    auto it = sessions_.find(fd);
    if (!a || it == sessions_.end()) return;
    Session& s = it->second;
    ProbeResult r;
    r.duration = loop_.now() - a->started;
    judge_connect(fd, connect_error, a->destination, r);
    if (r.outcome != Outcome::ok) return finish(fd, std::move(r));
    if (s.watched) resets_.drain_all();  // the SYN-ACK's TTL, while it is fresh in the socket
    s.connected = true;
    s.out = s.dialogue->opening();
    if (!flush(fd, s)) return;
    if (Status st = loop_.modify_fd(fd, EPOLLIN | (s.out.empty() ? 0u : EPOLLOUT)); !st.ok())
        return finish(fd, AppVerdict{Outcome::error, st.message()});
}

bool AppProbe::flush(int fd, Session& s) {
    while (!s.out.empty()) {
        ssize_t n = send(fd, s.out.data(), s.out.size(), MSG_NOSIGNAL);
        if (n > 0) {
            s.sent += static_cast<std::size_t>(n);
            s.out.erase(0, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
        if (n < 0 && is_reset(errno)) {
            on_reset(fd, s);
            return false;
        }
        finish(fd, AppVerdict{Outcome::error, std::string("send: ") + std::strerror(errno)});
        return false;
    }
    return true;
}

void AppProbe::apply(int fd, Session& s, AppStep step) {
    if (step.verdict) return finish(fd, *step.verdict);
    if (step.send.empty()) return;
    const bool was_empty = s.out.empty();
    s.out += step.send;
    if (!flush(fd, s)) return;
    if (was_empty && !s.out.empty()) {
        if (Status st = loop_.modify_fd(fd, EPOLLIN | EPOLLOUT); !st.ok())
            finish(fd, AppVerdict{Outcome::error, st.message()});
    } else if (!was_empty && s.out.empty()) {
        if (Status st = loop_.modify_fd(fd, EPOLLIN); !st.ok())
            finish(fd, AppVerdict{Outcome::error, st.message()});
    }
}

void AppProbe::on_reset(int fd, Session& s) {
    AppFacts facts;
    if (!s.watched)
        return finish(fd,
                      AppVerdict{Outcome::mismatch,
                                 "reset after the handshake; whether by the server or a device "
                                 "on the way is unknown (no raw socket to read the reset's TTL: "
                                 "the daemon lacks CAP_NET_RAW)"});
    auto ttl = resets_.ttls(s.remote, s.remote_port, s.local_port);
    if (ttl.reset < 0 || ttl.syn_ack < 0)
        return finish(
            fd, AppVerdict{Outcome::mismatch, "reset after the handshake; its TTL was not seen"});
    const int server_hops = hops_from_ttl(ttl.syn_ack);
    const int reset_hops = hops_from_ttl(ttl.reset);
    if (ttl.reset == ttl.syn_ack || reset_hops >= server_hops)
        return finish(
            fd, AppVerdict{Outcome::mismatch,
                           "the server reset the connection after " + std::to_string(s.sent) +
                               " bytes (TTL " + std::to_string(ttl.reset) + ", as its SYN-ACK's)"});
    facts.reset_hops = reset_hops;
    finish(
        fd,
        AppVerdict{Outcome::app_blocked,
                   "reset by a device " + std::to_string(reset_hops) +
                       (reset_hops == 1 ? " hop" : " hops") + " away, nearer than the server (" +
                       std::to_string(server_hops) + "): the handshake passed, the data did not"},
        facts);
}

void AppProbe::on_timeout(int fd) {
    auto* a = attempts_.find(fd);
    auto it = sessions_.find(fd);
    if (!a || it == sessions_.end()) return;
    Session& s = it->second;
    if (!s.connected) {
        if (connected_in_time(fd, loop_.now() - (a->started + a->timeout)))
            return on_connect(fd, 0);
        ProbeResult r;
        r.duration = loop_.now() - a->started;
        judge_connect_timeout(fd, r);
        return finish(fd, std::move(r));
    }
    if (auto v = s.dialogue->timed_out()) return finish(fd, *v);
    tcp_info info{};
    socklen_t len = sizeof info;
    const bool have_info = getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0;
    if (have_info && s.sent > 0 && info.tcpi_unacked > 0) {
        const auto count = [](unsigned n, const char* what) {
            return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
        };
        return finish(fd, AppVerdict{Outcome::app_blocked,
                                     "the server never acknowledged the data sent after the "
                                     "handshake (" +
                                         count(info.tcpi_unacked, "segment") + " outstanding, " +
                                         count(info.tcpi_retransmits, "retransmission") +
                                         "): dropped on the way"});
    }
    std::string detail;
    if (s.sent == 0 && s.received == 0)
        detail = "connected, and the server said nothing before the timeout";
    else if (s.received == 0)
        detail = "no answer: the server acknowledged the data and said nothing";
    else
        detail = "the answer stopped after " + std::to_string(s.received) + " bytes";
    finish(fd, AppVerdict{Outcome::mismatch, detail});
}

void AppProbe::finish(int fd, const AppVerdict& v, AppFacts facts) {
    auto* a = attempts_.find(fd);
    if (!a) return;
    ProbeResult r;
    r.duration = loop_.now() - a->started;
    r.outcome = v.outcome;
    r.detail = v.detail;
    if (v.outcome == Outcome::mismatch) r.reporter = a->destination;
    finish(fd, std::move(r), facts);
}

void AppProbe::finish(int fd, ProbeResult r, AppFacts facts) {
    auto it = sessions_.find(fd);
    if (it == sessions_.end()) return;
    Session s = std::move(it->second);
    sessions_.erase(it);
    if (s.watched) resets_.forget(s.remote, s.remote_port, s.local_port);
    s.dialogue->fill(r, facts);
    attempts_.finish(fd, std::move(r));
}

}  // namespace fedprobe
