#include "probes/idle/idle_probe.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/socket.hpp"

namespace fedprobe {

static_assert(IdleKind::kSockets.cap == IdleProbe::kMaxSessions,
              "the descriptor plan counts what the probe holds at most");

namespace {

double seconds(Duration d) {
    return std::chrono::duration<double>(d).count();
}

std::string key_of(const ProbeRequest& r, const IdleParams& p) {
    auto s = [](Duration d) { return std::to_string(d.count()); };
    return r.destination.host_str() + ":" + std::to_string(r.port) + "/" + s(p.min) + "/" +
           s(p.max) + "/" + s(p.interval) + "/" + (p.required ? s(*p.required) : "-") + "/" +
           std::to_string(p.sessions) + "/" + r.send().device + "/" +
           (r.send().source ? r.send().source->str() : "") + "/" + std::to_string(r.send().dscp);
}

}  // namespace

std::unique_ptr<Probe> IdleKind::make_probe(EventLoop& loop) {
    return std::make_unique<IdleProbe>(loop);
}

IdleProbe::~IdleProbe() {
    for (auto& [key, t] : targets_)
        while (!t->sessions.empty())
            close_session(t->sessions.back().get());
}

void IdleProbe::start(const ProbeRequest& req, Done done) {
    const TimePoint now = loop_.now();
    forget_stale(now);
    const IdleParams& p = req.as<IdleKind>();
    const std::string key = key_of(req, p);
    auto& slot = targets_[key];
    if (!slot) {
        slot = std::make_unique<Target>();
        slot->key = key;
        slot->params = p;
        slot->search = IdleSearch(seconds(p.min), seconds(p.max));
    }
    Target& t = *slot;
    t.request = req;
    t.last_poll = now;
    top_up(t);
    bool connecting = false;
    for (const auto& s : t.sessions)
        connecting |= !s->connected;
    if (connecting) {
        t.waiting.push_back(std::move(done));  // answered by the first connect to finish
        return;
    }
    loop_.defer([done = std::move(done), r = result_of(t)]() mutable { done(std::move(r)); });
}

void IdleProbe::top_up(Target& t) {
    const TimePoint now = loop_.now();
    std::vector<double> flying;
    for (const auto& s : t.sessions)
        flying.push_back(s->idle_s);
    if (t.search.converged(flying) && t.verify_at == TimePoint::max())
        t.verify_at = now + t.params.interval;
    if (now >= t.verify_at) {
        t.search.reverify();
        t.verify_at = TimePoint::max();
    }
    const bool healthy = t.connected_once && t.last == Outcome::ok;
    while (t.sessions.size() < static_cast<std::size_t>(t.params.sessions)) {
        // While the service cannot be reached, one connect at a time says so.
        if (!healthy && !t.sessions.empty()) break;
        auto next = t.search.next(flying);
        if (!next || !open_session(t, *next)) break;
        flying.push_back(*next);
        if (!healthy) break;
    }
}

bool IdleProbe::open_session(Target& t, double idle_s) {
    if (open_ >= kMaxSessions || !loop_.fd_budget().try_take()) return false;
    const ProbeRequest& req = t.request;
    auto opened = open_probe_socket(req.destination.family, SOCK_STREAM, IPPROTO_TCP, req.send());
    if (!opened.ok()) {
        const int err = errno;
        loop_.fd_budget().give();
        connect_done(t, outcome_from_errno(err), {}, std::nullopt, opened.status().message());
        return false;
    }
    const int fd = *opened;
    // The kernel's keepalive is the probe: after idle_s without a packet it sends one segment
    // one below the next sequence number, which a live session answers with an ACK.
    const int on = 1, idle = static_cast<int>(idle_s), interval = kKeepaliveInterval,
              count = kKeepaliveCount;
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count) != 0) {
        const int err = errno;
        ::close(fd);
        loop_.fd_budget().give();
        connect_done(t, Outcome::error, {}, std::nullopt,
                     std::string("setsockopt(keepalive): ") + std::strerror(err));
        return false;
    }
    auto session = std::make_unique<Session>();
    Session* s = session.get();
    s->target = &t;
    s->fd = fd;
    s->idle_s = idle_s;
    s->holds_budget = true;
    s->opened = loop_.now();
    t.sessions.push_back(std::move(session));
    ++open_;
    sockaddr_storage ss;
    const socklen_t len = req.destination.to_sockaddr(req.port, ss);
    if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) {
        const int err = errno;
        connect_done(t, outcome_from_errno(err), {}, std::nullopt, std::strerror(err));
        end(s, std::nullopt);
        return true;
    }
    if (Status st = loop_.add_fd(fd, EPOLLOUT,
                                 [this, s](std::uint32_t ev) {
                                     if (s->connected)
                                         on_event(s, ev);
                                     else
                                         on_connect(s);
                                 });
        !st.ok()) {
        connect_done(t, Outcome::error, {}, std::nullopt, st.message());
        end(s, std::nullopt);
        return true;
    }
    s->timer = loop_.add_timer(s->opened + req.timeout, [this, s] {
        s->timer = 0;
        on_connect_timeout(s);
    });
    return true;
}

void IdleProbe::on_connect(Session* s) {
    Target& t = *s->target;
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    const Duration took = loop_.now() - s->opened;
    if (err != 0) {
        if (auto q = read_error_queue(s->fd); q && q->from_icmp())
            connect_done(
                t, outcome_of(*q), took, q->offender,
                "icmp type " + std::to_string(q->type) + " code " + std::to_string(q->code));
        else
            connect_done(t, outcome_from_errno(err), took,
                         err == ECONNREFUSED ? std::optional(t.request.destination) : std::nullopt,
                         std::strerror(err));
        return end(s, std::nullopt);
    }
    if (s->timer) loop_.cancel_timer(s->timer);
    s->timer = 0;
    s->connected = true;
    s->quiet_since = loop_.now();
    if (Status st = loop_.modify_fd(s->fd, EPOLLIN | EPOLLRDHUP); !st.ok()) {
        connect_done(t, Outcome::error, took, std::nullopt, st.message());
        return end(s, std::nullopt);
    }
    arm_check(s);
    connect_done(t, Outcome::ok, took, std::nullopt, "");
    top_up(t);  // the service answers: the other sessions the search wants can go too
}

void IdleProbe::on_connect_timeout(Session* s) {
    Target& t = *s->target;
    const Duration took = loop_.now() - s->opened;
    if (auto q = read_error_queue(s->fd); q && q->from_icmp())
        connect_done(t, outcome_of(*q), took, q->offender, "icmp error to the SYN");
    else
        connect_done(t, Outcome::filtered, took, std::nullopt, "no answer to the SYN");
    end(s, std::nullopt);
}

void IdleProbe::arm_check(Session* s) {
    if (s->timer) loop_.cancel_timer(s->timer);
    const auto at = s->quiet_since +
                    std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s->idle_s)) +
                    std::chrono::seconds(kKeepaliveInterval);
    s->timer = loop_.add_timer(at, [this, s] {
        s->timer = 0;
        on_check(s);
    });
}

void IdleProbe::on_check(Session* s) {
    const TimePoint now = loop_.now();
    const auto keepalive_at = s->quiet_since + std::chrono::duration_cast<Duration>(
                                                   std::chrono::duration<double>(s->idle_s));
    tcp_info info{};
    socklen_t len = sizeof info;
    if (getsockopt(s->fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0 &&
        info.tcpi_state == TCP_ESTABLISHED &&
        std::chrono::milliseconds(info.tcpi_last_ack_recv) < now - keepalive_at)
        return end(s, IdleAnswer::alive, seconds(now - s->quiet_since));
    // No ACK yet: the kernel's retries decide (ETIMEDOUT after the last). In case no verdict
    // comes, a last look after them.
    const auto last =
        keepalive_at + std::chrono::seconds(kKeepaliveInterval * (kKeepaliveCount + 1));
    if (now >= last) return end(s, IdleAnswer::silence, s->idle_s);
    s->timer = loop_.add_timer(last, [this, s] {
        s->timer = 0;
        on_check(s);
    });
}

void IdleProbe::on_event(Session* s, std::uint32_t events) {
    const double idle_for = seconds(loop_.now() - s->quiet_since);
    auto cut_by = [&](int err) {
        // The keepalive went unanswered to the end; or a RST, or an ICMP error, cut it.
        if (err == ETIMEDOUT) return end(s, IdleAnswer::silence, s->idle_s);
        return end(s, IdleAnswer::reset, idle_for);
    };
    if (events & EPOLLERR) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        if (err != 0) return cut_by(err);
    }
    char buf[512];
    for (;;) {
        const ssize_t n = ::read(s->fd, buf, sizeof buf);
        if (n > 0) {
            // A banner (SMTP says hello first): the idle time starts from the last thing received.
            s->quiet_since = loop_.now();
            arm_check(s);
            continue;
        }
        if (n == 0) return end(s, IdleAnswer::server_closed, idle_for);
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        return cut_by(errno);
    }
}

void IdleProbe::connect_done(Target& t, Outcome o, Duration took, std::optional<IpAddress> reporter,
                             std::string detail) {
    t.connected_once = true;
    t.last = o;
    t.connect_time = took;
    t.reporter = std::move(reporter);
    t.detail = std::move(detail);
    auto waiting = std::move(t.waiting);
    t.waiting.clear();
    for (auto& done : waiting)
        loop_.defer([done = std::move(done), r = result_of(t)]() mutable { done(std::move(r)); });
}

void IdleProbe::end(Session* s, std::optional<IdleAnswer> answer, double elapsed_s) {
    Target& t = *s->target;
    const double idle = s->idle_s;
    close_session(s);  // s is gone from here
    if (!answer) return;
    t.search.record(idle, *answer, elapsed_s);
    if (*answer == IdleAnswer::silence) ++t.cuts[static_cast<std::size_t>(IdleCut::silence)];
    if (*answer == IdleAnswer::reset) ++t.cuts[static_cast<std::size_t>(IdleCut::reset)];
    if (*answer == IdleAnswer::server_closed)
        ++t.cuts[static_cast<std::size_t>(IdleCut::server_closed)];
    top_up(t);
}

void IdleProbe::close_session(Session* s) {
    Target& t = *s->target;
    if (s->timer) loop_.cancel_timer(s->timer);
    loop_.remove_fd(s->fd);
    ::close(s->fd);
    if (s->holds_budget) loop_.fd_budget().give();
    --open_;
    for (auto it = t.sessions.begin(); it != t.sessions.end(); ++it)
        if (it->get() == s) {
            t.sessions.erase(it);
            break;
        }
}

ProbeResult IdleProbe::result_of(const Target& t) const {
    ProbeResult r;
    r.outcome = t.connected_once ? t.last : Outcome::error;
    r.duration = t.connect_time;
    r.reporter = t.reporter;
    r.detail = t.detail;
    IdleResult k;
    k.lower = t.search.lower();
    k.upper = t.search.upper();
    k.cuts = t.cuts;
    k.sessions_open = static_cast<std::uint32_t>(t.sessions.size());
    if (t.params.required) k.required = seconds(*t.params.required);
    std::vector<double> flying;
    for (const auto& s : t.sessions)
        flying.push_back(s->idle_s);
    k.converged = t.search.converged(flying);
    r.kind = k;
    return r;
}

void IdleProbe::forget_stale(TimePoint now) {
    if (now < next_forget_) return;
    next_forget_ = now + std::chrono::minutes(1);
    for (auto it = targets_.begin(); it != targets_.end();) {
        Target& t = *it->second;
        if (now - t.last_poll < kForgetAfter || !t.waiting.empty()) {
            ++it;
            continue;
        }
        while (!t.sessions.empty())
            close_session(t.sessions.back().get());
        it = targets_.erase(it);
    }
}

}  // namespace fedprobe
