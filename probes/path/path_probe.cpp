#include "probes/path/path_probe.hpp"

// net/if.h must precede linux headers that pull in linux/if.h.
#include <net/if.h>

#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "probes/path/path_middlebox.hpp"
#include "probes/path/path_trace.hpp"

namespace fedprobe {

namespace {

constexpr int kFirstWindow = 8;  // TTLs sent at once when a flow has no history yet
// Memory of a flow (its source port, window and last hops) outlives a reload for this long.
constexpr auto kForgetAfter = std::chrono::hours(1);

}  // namespace

std::unique_ptr<Probe> PathKind::make_probe(EventLoop& loop) {
    return std::make_unique<PathProbe>(loop);
}

std::size_t PathProbe::FlowKeyHash::operator()(const FlowKey& k) const {
    std::uint64_t h = static_cast<std::uint64_t>(k.protocol) * 0x9e3779b97f4a7c15ull;
    for (auto b : k.destination.bytes)
        h = (h ^ b) * 0x100000001b3ull;
    h ^= std::uint64_t{k.ident} << 16 | k.port;
    return static_cast<std::size_t>(h * 0x9e3779b97f4a7c15ull);
}

PathProbe::PathProbe(std::unique_ptr<Wire> own, Wire* wire)
    : own_wire_(std::move(own)), wire_(wire ? *wire : *own_wire_) {
    // Answers that reached the host are read before any attempt's timeout is judged.
    drain_id_ = wire_.add_drain([this] { drain(); });
}

PathProbe::~PathProbe() {
    wire_.remove_drain(drain_id_);
    for (auto& [id, r] : rounds_) {
        if (r->send_timer) wire_.cancel_timer(r->send_timer);
        if (r->check_timer) wire_.cancel_timer(r->check_timer);
        if (r->mtu && r->mtu->timer) wire_.cancel_timer(r->mtu->timer);
    }
    for (auto& rx : receivers_) {
        wire_.unwatch(rx.fd);
        wire_.close(rx.fd);
    }
    for (auto& [key, fd] : send_sockets_)
        if (std::none_of(receivers_.begin(), receivers_.end(),
                         [fd = fd](const Receiver& r) { return r.fd == fd; }))
            wire_.close(fd);
    for (auto& [key, m] : memory_)
        if (m.fd >= 0) wire_.close(m.fd);
}

void PathProbe::fail(const ProbeRequest& request, Done done, Outcome outcome, std::string detail) {
    PathResult path;
    path.method = request.as<PathKind>().method;
    path.port = request.port;
    wire_.defer([done = std::move(done), outcome, detail = std::move(detail), path] {
        ProbeResult r;
        r.outcome = outcome;
        r.detail = detail;
        r.kind = path;
        done(std::move(r));
    });
}

void PathProbe::start(const ProbeRequest& request, Done done) {
    const PathParams& params = request.as<PathKind>();
    const int family = request.destination.family;
    const TimePoint now = wire_.now();
    // Forget flows no job has used for a while (a target that left the config).
    for (auto it = memory_.begin(); now >= next_gc_ && it != memory_.end();) {
        Memory& m = it->second;
        const bool in_use = now - m.last_used < kForgetAfter ||
                            std::any_of(active_.begin(), active_.end(),
                                        [&](const auto& a) { return a.first.ident == m.ident; });
        if (in_use) {
            ++it;
            continue;
        }
        if (m.fd >= 0) wire_.close(m.fd);
        it = memory_.erase(it);
    }
    if (now >= next_gc_) {
        routers_.forget_idle(now);
        next_gc_ = now + std::chrono::minutes(1);
    }

    if (Status st = open_receivers(family, params.method); !st.ok())
        return fail(request, std::move(done), Outcome::error, st.message());
    const int protocol =
        PathFlow{params.method, {}, request.destination, 0, 0, 0, false}.protocol();
    auto fd = send_socket(family, protocol, request.send().device);
    if (!fd.ok()) return fail(request, std::move(done), Outcome::error, fd.status().message());
    IpAddress source;
    if (request.send().source) {
        source = *request.send().source;
    } else {
        auto s = wire_.route_source(request.destination, request.send().device);
        if (!s.ok())
            return fail(request, std::move(done), Outcome::unreachable, s.status().message());
        source = *s;
    }

    auto round = std::make_unique<Round>();
    Round& r = *round;
    r.id = next_round_++;
    r.request = request;
    r.params = params;
    r.done = std::move(done);
    r.started = now;
    r.send_fd = *fd;
    r.drops_at_start = drops_total_;
    if (!request.send().device.empty()) r.ifindex = if_nametoindex(request.send().device.c_str());
    for (int i = 0; i < params.flows; ++i) {
        FlowRun run;
        run.flow.method = params.method;
        run.flow.source = source;
        run.flow.destination = request.destination;
        run.flow.port = request.port;
        run.flow.tos =
            static_cast<std::uint8_t>(request.send().dscp >= 0 ? request.send().dscp << 2 : 0);
        // DF on every probe: a small one never needs fragmenting, and a quote without DF shows
        // a device that clears it (as some IPsec gateways do).
        run.flow.dont_fragment = true;
        auto m = memory_for(run.flow, i);
        if (!m.ok()) return fail(request, std::move(r.done), Outcome::error, m.status().message());
        run.memory = *m;
        run.flow.ident = run.memory->ident;
        run.key = FlowKey{protocol, request.destination, run.flow.ident, run.flow.port};
        if (auto a = active_.find(run.key); a != active_.end()) {
            // The same flow of another job is still tracing: a second round would send packets
            // with the same identifiers and neither could tell whose answers are whose. So the
            // caller shares that round or, if it cannot (other settings, or it wants evidence
            // from after it asked), waits for it to end and then runs its own.
            Round& running = *rounds_.at(a->second.first);
            const bool stale = params.fresh && running.started < now;
            if (!stale && can_join(running, request, params))
                running.joined.push_back(std::move(r.done));
            else
                running.after.emplace_back(request, std::move(r.done));
            return;
        }
        // Generation 0 never goes out: an IPv4 ID of 0 would be replaced by the kernel.
        run.memory->generation = static_cast<std::uint8_t>(run.memory->generation % 255 + 1);
        run.generation = run.memory->generation;
        if (i == 0 && params.mtu) {
            r.mtu_due = run.memory->mtu_countdown <= 0;
            run.memory->mtu_countdown =
                r.mtu_due ? params.mtu_every - 1 : run.memory->mtu_countdown - 1;
        }
        for (std::size_t h = 0; h < run.memory->hops.size(); ++h)
            if (run.memory->hops[h] && *run.memory->hops[h] == request.destination) {
                run.last_end_ttl = static_cast<int>(h) + 1;
                break;
            }
        run.ttls.resize(static_cast<std::size_t>(params.max_ttl));
        for (int t = 0; t < params.max_ttl; ++t)
            run.ttls[static_cast<std::size_t>(t)].hop.ttl = t + 1;
        r.flows.push_back(std::move(run));
    }
    for (std::uint32_t i = 0; i < r.flows.size(); ++i)
        active_[r.flows[i].key] = {r.id, i};
    rounds_[r.id] = std::move(round);
    for (std::uint32_t i = 0; i < r.flows.size(); ++i) {
        FlowRun& f = r.flows[i];
        const int window = f.memory->window > 0 ? f.memory->window : kFirstWindow;
        for (int ttl = 1; ttl <= std::min(window, params.max_ttl); ++ttl)
            enqueue(r, i, ttl, 0, now);
    }
    const std::uint64_t id = r.id;
    wire_.defer([this, id] { pump(id); });
}

int PathProbe::attempts_for(const Round& r, const FlowRun& f, int ttl) {
    // Where the destination answered last round; without that (the first round, or one after
    // the end was lost), the first TTL past the farthest router that answered, while nothing
    // beyond it has: a first round sends 8 TTLs at once, and every one past the destination
    // draws on the destination's allowance.
    const bool end =
        f.last_end_ttl ? ttl == f.last_end_ttl : ttl == f.router_ttl + 1 && !f.stop_ttl;
    if (!end) return r.params.attempts;
    // ProbeNumber has room for four attempts.
    return std::max(r.params.attempts, std::min(r.params.attempts + kEndConfirmations, 4));
}

void PathProbe::enqueue(Round& r, std::uint32_t flow, int ttl, int attempt, TimePoint now) {
    FlowRun& f = r.flows[flow];
    TtlState& t = f.ttls[static_cast<std::size_t>(ttl - 1)];
    t.queued = true;
    f.window = std::max(f.window, ttl);
    TimePoint when = now;
    const auto& hops = f.memory->hops;
    const std::size_t i = static_cast<std::size_t>(ttl - 1);
    if (i < hops.size() && hops[i] && !(*hops[i] == r.request.destination))
        when = routers_.slot(*hops[i], now, r.request.timeout);
    // A confirmation of the destination's silence waits for its rate limit to give a token.
    if (attempt >= r.params.attempts && !t.deadline.empty())
        when = std::max(when, t.deadline.back() -
                                  std::chrono::duration_cast<Clock::duration>(r.request.timeout) +
                                  std::chrono::duration_cast<Clock::duration>(kEndSpacing));
    r.queue.push(Pending{when, flow, ttl, attempt, false});
}

void PathProbe::arm_send(Round& r) {
    if (r.queue.empty()) return;
    const TimePoint when = r.queue.top().when;
    if (r.send_timer && when >= r.send_at) return;
    if (r.send_timer) wire_.cancel_timer(r.send_timer);
    r.send_at = when;
    const std::uint64_t id = r.id;
    r.send_timer = wire_.add_timer(when, [this, id] {
        auto it = rounds_.find(id);
        if (it == rounds_.end()) return;
        it->second->send_timer = 0;
        it->second->send_at = TimePoint::max();
        pump(id);
    });
}

void PathProbe::arm_check(Round& r) {
    TimePoint earliest = TimePoint::max();
    for (const auto& f : r.flows)
        for (const auto& t : f.ttls)
            if (!t.answered && static_cast<std::size_t>(t.expired) < t.deadline.size())
                earliest = std::min(earliest, t.deadline[static_cast<std::size_t>(t.expired)]);
    if (earliest == TimePoint::max() || (r.check_timer && earliest == r.check_at)) return;
    if (r.check_timer) wire_.cancel_timer(r.check_timer);
    r.check_at = earliest;
    const std::uint64_t id = r.id;
    r.check_timer = wire_.add_timer(earliest, [this, id] {
        auto it = rounds_.find(id);
        if (it == rounds_.end()) return;
        it->second->check_timer = 0;
        it->second->check_at = TimePoint::max();
        check(id);
    });
}

void PathProbe::pump(std::uint64_t id) {
    auto it = rounds_.find(id);
    // A round searching its MTU has finished its trace: callbacks the trace left are void.
    if (it == rounds_.end() || it->second->mtu) return;
    Round& r = *it->second;
    const TimePoint now = wire_.now();
    // Packets due within kSendSlack go in this wake-up: one wake-up per paced packet cost more
    // than the packets themselves. A few ms early is well inside the limiter's burst.
    const TimePoint horizon = now + kSendSlack;
    while (!r.queue.empty() && r.queue.top().when <= horizon) {
        Pending p = r.queue.top();
        r.queue.pop();
        const FlowRun& f = r.flows[p.flow];
        TtlState& t = r.flows[p.flow].ttls[static_cast<std::size_t>(p.ttl - 1)];
        // Nothing to learn past the end of the path, or from a TTL that has answered meanwhile.
        if (t.answered || (f.stop_ttl && p.ttl > f.stop_ttl)) {
            t.queued = false;
            continue;
        }
        // Each packet after the round's first (the scheduler's slot) counts against the
        // destination network's rate limit, when it is about to go.
        if (r.request.pacer && r.packets > 0 && !p.paced) {
            p.paced = true;
            p.when = r.request.pacer->reserve(now);
            if (p.when > horizon) {
                r.queue.push(p);
                continue;
            }
        }
        if (!send_one(r, p, now)) break;
    }
    if (!r.error.empty()) {
        finish(id);
        return;
    }
    arm_send(r);
    arm_check(r);
}

bool PathProbe::send_one(Round& r, const Pending& p, TimePoint now) {
    FlowRun& f = r.flows[p.flow];
    TtlState& t = f.ttls[static_cast<std::size_t>(p.ttl - 1)];
    std::uint8_t packet[kPathMaxPacket];
    const std::uint16_t number = ProbeNumber{p.ttl, p.attempt, f.generation}.encode();
    const std::size_t len = build_path_probe(packet, f.flow, p.ttl, number);
    const std::int64_t sent_ns = wire_.wall_ns();
    const int err = transmit(r, f.flow, {packet, len}, p.ttl);
    if (err != 0 && err != EAGAIN && err != ENOBUFS) {
        r.error = std::string("sending a probe: ") + std::strerror(err);
        return false;
    }
    ++r.packets;
    ++stats_.packets_sent;
    t.queued = false;
    t.sent_ns.push_back(err == 0 ? sent_ns : 0);
    t.deadline.push_back(now + std::chrono::duration_cast<Clock::duration>(r.request.timeout));
    PathAttempt attempt;
    t.hop.attempts.push_back(attempt);
    return true;
}

void PathProbe::check(std::uint64_t id) {
    auto it = rounds_.find(id);
    // A round searching its MTU has finished its trace: callbacks the trace left are void.
    if (it == rounds_.end() || it->second->mtu) return;
    Round& r = *it->second;
    const TimePoint now = wire_.now();
    for (std::uint32_t i = 0; i < r.flows.size(); ++i) {
        FlowRun& f = r.flows[i];
        for (auto& t : f.ttls) {
            while (!t.answered && static_cast<std::size_t>(t.expired) < t.deadline.size() &&
                   t.deadline[static_cast<std::size_t>(t.expired)] <= now)
                ++t.expired;
            const int ttl = t.hop.ttl;
            const bool needed = !f.stop_ttl || ttl < f.stop_ttl;
            // Once: a retry waiting for its slot (the network's pacer, a router's spacing) is
            // not queued again by the next check, which every other TTL's deadline brings. It
            // was, and under a silent fault every wait added copies that kept the round alive,
            // sending one TTL's probe 7 times a second.
            if (!t.answered && !t.queued && needed &&
                t.expired == static_cast<int>(t.deadline.size()) && t.expired > 0 &&
                t.expired < attempts_for(r, f, ttl))
                enqueue(r, i, ttl, t.expired, now);
        }
        extend(r, i, now);
    }
    arm_send(r);
    arm_check(r);
    maybe_finish(id);
}

// More TTLs while the end is not in sight: up to gap_limit past the farthest router that
// answered, once the farthest TTL sent has answered as a router or given up.
void PathProbe::extend(Round& r, std::uint32_t flow, TimePoint now) {
    FlowRun& f = r.flows[flow];
    if (f.stop_ttl || f.window >= r.params.max_ttl) return;
    const TtlState& frontier = f.ttls[static_cast<std::size_t>(f.window - 1)];
    const bool settled =
        frontier.answered || frontier.expired >= attempts_for(r, f, frontier.hop.ttl);
    if (!settled) return;
    const int want = std::min(r.params.max_ttl, f.router_ttl + r.params.gap_limit);
    for (int ttl = f.window + 1; ttl <= want; ++ttl)
        enqueue(r, flow, ttl, 0, now);
}

void PathProbe::handle(const Receiver&, const PathReply& reply, std::int64_t rx_ns) {
    auto where = active_.find(FlowKey{reply.protocol, reply.destination, reply.ident, reply.port});
    if (where == active_.end()) return;  // not ours, or a round already over
    Round& r = *rounds_.at(where->second.first);
    FlowRun& f = r.flows[where->second.second];
    if (reply.kind == PathReply::Kind::tcp && (reply.tcp_flags & 0x02)) {
        // A SYN-ACK: the port is open. Reset it, so the target holds no half-open connection.
        std::uint8_t packet[kPathMaxPacket];
        const std::size_t len = build_path_reset(packet, f.flow, reply.tcp_ack);
        if (transmit(r, f.flow, {packet, len}, 64) == 0) ++stats_.resets_sent;
    }
    if (r.mtu) {
        if (where->second.second == 0) mtu_answer(r, reply);
        return;
    }
    // Which probe it answers: by its number, or for a UDP answer without one (a service that
    // does not echo), the nearest TTL past the routers that has not answered.
    int ttl = 0, attempt = 0;
    if (reply.number) {
        const ProbeNumber n = ProbeNumber::decode(*reply.number);
        if (n.generation != f.generation) {
            ++stats_.late;
            return;
        }
        ttl = n.ttl;
        attempt = n.attempt;
    } else {
        for (auto& t : f.ttls)
            if (t.hop.ttl > f.router_ttl && !t.sent_ns.empty() && !t.answered) {
                ttl = t.hop.ttl;
                attempt = static_cast<int>(t.sent_ns.size()) - 1;
                break;
            }
    }
    if (ttl < 1 || ttl > static_cast<int>(f.ttls.size())) return;
    TtlState& t = f.ttls[static_cast<std::size_t>(ttl - 1)];
    if (attempt >= static_cast<int>(t.sent_ns.size())) return;
    PathAttempt& a = t.hop.attempts[static_cast<std::size_t>(attempt)];
    if (a.answered) return;  // a duplicate
    ++stats_.answers;
    a.answered = true;
    a.from = reply.from;
    const std::int64_t sent = t.sent_ns[static_cast<std::size_t>(attempt)];
    const std::int64_t arrived = rx_ns ? rx_ns : wire_.wall_ns();
    a.rtt = sent && arrived > sent ? std::chrono::nanoseconds(arrived - sent) : Duration{};
    a.icmp = reply.kind == PathReply::Kind::icmp_error || reply.kind == PathReply::Kind::echo_reply;
    a.icmp_type = reply.type;
    a.icmp_code = reply.code;
    a.reply_ttl = reply.reply_ttl;
    a.quoted_ttl = reply.quoted_ttl;
    a.next_hop_mtu = reply.next_hop_mtu;
    if (reply.quote) {
        SentFields sent;
        sent.tos = f.flow.tos;
        sent.ip_length = static_cast<std::uint16_t>(path_probe_bytes(f.flow));
        sent.dont_fragment = f.flow.dont_fragment;
        sent.source = f.flow.source;
        if (f.flow.method == PathMethod::tcp) sent.mss = kPathProbeMss;
        a.changes = quote_changes(sent, reply);
        a.quote_bytes = reply.quote->bytes;
        a.quoted_mss = reply.quote->mss.value_or(0);
    }
    a.mpls = reply.mpls;
    t.answered = true;
    const TimePoint now = wire_.now();
    if (classify_answer(a, r.request.destination) != PathAnswer::hop) {
        if (!f.stop_ttl || ttl < f.stop_ttl) f.stop_ttl = ttl;
    } else {
        f.router_ttl = std::max(f.router_ttl, ttl);
    }
    extend(r, where->second.second, now);
    arm_send(r);
    const std::uint64_t id = r.id;
    // Not from inside the read loop: finishing hands the result on, which may start rounds.
    wire_.defer([this, id] { maybe_finish(id); });
}

void PathProbe::maybe_finish(std::uint64_t id) {
    auto it = rounds_.find(id);
    // A round searching its MTU has finished its trace: callbacks the trace left are void.
    if (it == rounds_.end() || it->second->mtu) return;
    Round& r = *it->second;
    for (auto& f : r.flows) {
        for (auto& t : f.ttls) {
            if (t.hop.ttl > f.window) break;
            if (f.stop_ttl && t.hop.ttl > f.stop_ttl) break;
            if (t.answered) continue;
            if (t.queued) return;  // waiting for its slot
            const bool retry_due = t.expired < attempts_for(r, f, t.hop.ttl) &&
                                   t.expired == static_cast<int>(t.deadline.size()) &&
                                   t.expired > 0;
            if (t.deadline.empty() || t.expired < static_cast<int>(t.deadline.size()) || retry_due)
                return;  // not sent yet, waiting for an answer, or a retry to go
        }
        if (!f.stop_ttl && f.window < r.params.max_ttl &&
            f.window < f.router_ttl + r.params.gap_limit)
            return;  // more TTLs to send
    }
    finish(id);
}

// A TTL that answered as a router last round and not at all now, while a later TTL answered:
// the router is rate-limiting its answers to us (or lost them), so probes to it get spaced.
void PathProbe::note_router_misses(const Round& r, const FlowTrace& trace, const Memory& before,
                                   TimePoint now) {
    for (const auto& h : trace.hops) {
        if (h.ttl >= trace.last_answer_ttl) break;
        const std::size_t i = static_cast<std::size_t>(h.ttl - 1);
        if (h.address || h.attempts.empty() || i >= before.hops.size() || !before.hops[i] ||
            *before.hops[i] == r.request.destination)
            continue;
        routers_.missed(*before.hops[i], r.params.router_spacing, now);
        ++stats_.router_misses;
    }
}

void PathProbe::finish(std::uint64_t id) {
    auto it = rounds_.find(id);
    if (it == rounds_.end() || it->second->mtu) return;
    std::unique_ptr<Round> round = std::move(it->second);
    rounds_.erase(it);
    Round& r = *round;
    if (r.send_timer) wire_.cancel_timer(r.send_timer);
    if (r.check_timer) wire_.cancel_timer(r.check_timer);
    for (auto& f : r.flows)
        active_.erase(f.key);

    const TimePoint now = wire_.now();
    PathResult path;
    path.method = r.params.method;
    path.port = r.request.port;
    path.packets_sent = r.packets;
    for (auto& f : r.flows) {
        FlowTrace trace;
        trace.flow_id = f.flow.ident;
        for (auto& t : f.ttls) {
            if (t.hop.ttl > f.window || t.sent_ns.empty()) break;
            trace.hops.push_back(std::move(t.hop));
        }
        conclude_trace(trace, r.request.destination, r.params.gap_limit, r.params.max_ttl);
        if (r.request.networks) {
            for (auto& h : trace.hops)
                if (h.address) h.network = r.request.networks->lookup(*h.address);
            if (trace.stop_hop) trace.stop_network = r.request.networks->lookup(*trace.stop_hop);
        }
        // Next round: the TTLs up to this one's end, sent at once.
        Memory& m = *f.memory;
        const bool ended = trace.stop == PathStop::reached || trace.stop == PathStop::unreachable ||
                           trace.stop == PathStop::prohibited;
        m.window = ended ? trace.stop_ttl
                         : std::min(r.params.max_ttl,
                                    std::max(trace.last_answer_ttl + r.params.gap_limit, 1));
        note_router_misses(r, trace, m, now);
        m.hops = hop_list(trace);
        path.flows.push_back(std::move(trace));
    }
    path.distinct_paths = distinct_paths(path.flows);

    ProbeResult result;
    result.duration = now - r.started;
    if (!r.error.empty()) {
        result.outcome = Outcome::error;
        result.detail = r.error;
    } else if (!path.flows.empty()) {
        const FlowTrace& t = path.flows.front();
        result.outcome = outcome_of(t);
        if (t.stop == PathStop::reached && !t.hops.empty()) result.duration = t.hops.back().rtt;
        if (t.stop == PathStop::unreachable || t.stop == PathStop::prohibited)
            result.reporter = t.stop_hop;
        result.detail = std::string(to_string(t.stop)) + " at TTL " + std::to_string(t.stop_ttl) +
                        (t.stop_hop ? " (" + t.stop_hop->str() + ")" : std::string());
        // Answers the kernel dropped for want of room say nothing about the network.
        if (t.stop != PathStop::reached && drops_total_ != r.drops_at_start)
            result.overload = Overload::dropped_replies;
    }
    path.dscp = r.request.send().dscp;
    path.min_mtu = r.params.min_mtu;
    path.min_mss = r.params.min_mss;
    const bool reached = !path.flows.empty() && path.flows.front().stop == PathStop::reached;
    result.kind = std::move(path);
    if (r.mtu_due && r.error.empty()) {
        if (reached) return start_mtu(std::move(round), std::move(result));
        r.flows.front().memory->mtu_countdown = 0;  // try again next round
    }
    deliver(std::move(round), std::move(result));
}

bool PathProbe::can_join(const Round& running, const ProbeRequest& request,
                         const PathParams& params) {
    // A caller that wants the MTU shares a round only if that round searches it this time; one
    // that does not is content with a round that also does. Everything else must be the same.
    if (params.mtu && !running.mtu_due) return false;
    PathParams a = running.params;
    PathParams b = params;
    a.mtu = b.mtu = false;
    a.mtu_every = b.mtu_every = 1;
    a.fresh = b.fresh = false;  // start() has already checked the round began in time
    return a == b && running.request.destination == request.destination &&
           running.request.port == request.port && running.request.timeout == request.timeout &&
           running.request.send() == request.send();
}

void PathProbe::deliver(std::unique_ptr<Round> round, ProbeResult result) {
    Done done = std::move(round->done);
    std::vector<Done> joined = std::move(round->joined);
    std::vector<std::pair<ProbeRequest, Done>> after = std::move(round->after);
    round.reset();
    for (Done& j : joined)
        j(result);
    done(std::move(result));
    // The flow is free again. The first of these starts a round; the others share it or queue
    // behind it, as if they had just asked.
    for (auto& [request, d] : after)
        start(request, std::move(d));
}

}  // namespace fedprobe
