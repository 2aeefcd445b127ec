#include "probes/idle/idle_probe.hpp"

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

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
    const TimePoint now = wire_.now();
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
    wire_.defer([done = std::move(done), r = result_of(t)]() mutable { done(std::move(r)); });
}

void IdleProbe::top_up(Target& t) {
    const TimePoint now = wire_.now();
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
    if (open_ >= kMaxSessions || !wire_.fd_budget().try_take()) return false;
    const ProbeRequest& req = t.request;
    auto opened = wire_.open(req.destination.family, SOCK_STREAM, IPPROTO_TCP, req.send());
    if (!opened.ok()) {
        const int err = errno;
        wire_.fd_budget().give();
        connect_done(t, outcome_from_errno(err), {}, std::nullopt, opened.status().message());
        return false;
    }
    const int fd = *opened;
    // The kernel's keepalive is the probe: after idle_s without a packet it sends one segment
    // one below the next sequence number, which a live session answers with an ACK.
    if (Status st =
            wire_.set_keepalive(fd, static_cast<int>(idle_s), kKeepaliveInterval, kKeepaliveCount);
        !st.ok()) {
        wire_.close(fd);
        wire_.fd_budget().give();
        connect_done(t, Outcome::error, {}, std::nullopt, st.message());
        return false;
    }
    auto session = std::make_unique<Session>();
    Session* s = session.get();
    s->target = &t;
    s->fd = fd;
    s->idle_s = idle_s;
    s->holds_budget = true;
    s->opened = wire_.now();
    t.sessions.push_back(std::move(session));
    ++open_;
    if (wire_.connect(fd, req.destination, req.port) != 0 && errno != EINPROGRESS) {
        const int err = errno;
        connect_done(t, outcome_from_errno(err), {}, std::nullopt, std::strerror(err));
        end(s, std::nullopt);
        return true;
    }
    if (Status st = wire_.watch(fd, EPOLLOUT,
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
    s->timer = wire_.add_timer(s->opened + req.timeout, [this, s] {
        s->timer = 0;
        on_connect_timeout(s);
    });
    return true;
}

void IdleProbe::on_connect(Session* s) {
    Target& t = *s->target;
    const int err = wire_.pending_error(s->fd);
    const Duration took = wire_.now() - s->opened;
    if (err != 0) {
        if (auto q = wire_.read_error(s->fd); q && q->from_icmp())
            connect_done(
                t, outcome_of(*q), took, q->offender,
                "icmp type " + std::to_string(q->type) + " code " + std::to_string(q->code));
        else
            connect_done(t, outcome_from_errno(err), took,
                         err == ECONNREFUSED ? std::optional(t.request.destination) : std::nullopt,
                         std::strerror(err));
        return end(s, std::nullopt);
    }
    if (s->timer) wire_.cancel_timer(s->timer);
    s->timer = 0;
    s->connected = true;
    s->quiet_since = wire_.now();
    if (Status st = wire_.modify(s->fd, EPOLLIN | EPOLLRDHUP); !st.ok()) {
        connect_done(t, Outcome::error, took, std::nullopt, st.message());
        return end(s, std::nullopt);
    }
    arm_check(s);
    connect_done(t, Outcome::ok, took, std::nullopt, "");
    top_up(t);  // the service answers: the other sessions the search wants can go too
}

void IdleProbe::on_connect_timeout(Session* s) {
    Target& t = *s->target;
    const Duration took = wire_.now() - s->opened;
    if (auto q = wire_.read_error(s->fd); q && q->from_icmp())
        connect_done(t, outcome_of(*q), took, q->offender, "icmp error to the SYN");
    else
        connect_done(t, Outcome::filtered, took, std::nullopt, "no answer to the SYN");
    end(s, std::nullopt);
}

void IdleProbe::arm_check(Session* s) {
    if (s->timer) wire_.cancel_timer(s->timer);
    const auto at = s->quiet_since +
                    std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s->idle_s)) +
                    std::chrono::seconds(kKeepaliveInterval);
    s->timer = wire_.add_timer(at, [this, s] {
        s->timer = 0;
        on_check(s);
    });
}

void IdleProbe::on_check(Session* s) {
    const TimePoint now = wire_.now();
    const auto keepalive_at = s->quiet_since + std::chrono::duration_cast<Duration>(
                                                   std::chrono::duration<double>(s->idle_s));
    if (auto ack = wire_.since_last_ack(s->fd); ack && *ack < now - keepalive_at)
        return end(s, IdleAnswer::alive, seconds(now - s->quiet_since));
    // No ACK yet: the kernel's retries decide (ETIMEDOUT after the last). In case no verdict
    // comes, a last look after them.
    const auto last =
        keepalive_at + std::chrono::seconds(kKeepaliveInterval * (kKeepaliveCount + 1));
    if (now >= last) return end(s, IdleAnswer::silence, s->idle_s);
    s->timer = wire_.add_timer(last, [this, s] {
        s->timer = 0;
        on_check(s);
    });
}

void IdleProbe::on_event(Session* s, std::uint32_t events) {
    const double idle_for = seconds(wire_.now() - s->quiet_since);
    auto cut_by = [&](int err) {
        // The keepalive went unanswered to the end; or a RST, or an ICMP error, cut it.
        if (err == ETIMEDOUT) return end(s, IdleAnswer::silence, s->idle_s);
        return end(s, IdleAnswer::reset, idle_for);
    };
    if (events & EPOLLERR) {
        if (const int err = wire_.pending_error(s->fd); err != 0) return cut_by(err);
    }
    std::uint8_t buf[512];
    for (;;) {
        const ssize_t n = wire_.receive(s->fd, buf);
        if (n > 0) {
            // A banner (SMTP says hello first): the idle time starts from the last thing received.
            s->quiet_since = wire_.now();
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
        wire_.defer([done = std::move(done), r = result_of(t)]() mutable { done(std::move(r)); });
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
    if (s->timer) wire_.cancel_timer(s->timer);
    wire_.unwatch(s->fd);
    wire_.close(s->fd);
    if (s->holds_budget) wire_.fd_budget().give();
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
