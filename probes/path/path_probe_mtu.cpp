// PathProbe's MTU search: drives MtuSearch (path_mtu.hpp) over flow 0 of a round whose trace
// reached the destination. See path_probe.hpp.
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "probes/path/path_probe.hpp"
#include "probes/path/path_trace.hpp"

namespace fedprobe {

int PathProbe::interface_mtu(const IpAddress& source, const std::string& device) {
    const TimePoint now = wire_.now();
    KnownMtu& known = interface_mtus_[source.str() + "%" + device];
    if (known.mtu <= 0 || now - known.read >= std::chrono::minutes(1)) {
        known.mtu = wire_.interface_mtu(source, device);
        known.read = now;
    }
    return known.mtu > 0 ? known.mtu : 1500;
}

void PathProbe::start_mtu(std::unique_ptr<Round> round, ProbeResult trace) {
    Round& r = *round;
    FlowRun& f = r.flows.front();
    const PathResult& path = std::get<PathResult>(trace.kind);
    const FlowTrace& t = path.flows.front();
    const bool v4 = f.flow.destination.family == AF_INET;
    const int local = interface_mtu(f.flow.source, r.request.send().device);
    MtuSearch search(local, v4 ? 68 : 1280, static_cast<int>(path_probe_bytes(f.flow)), t.stop_ttl);
    r.mtu = std::make_unique<MtuRun>(std::move(search));
    r.mtu->held = std::move(trace);
    f.memory->mtu_countdown = r.params.mtu_every - 1;
    active_[f.key] = {r.id, 0};
    const std::uint64_t id = r.id;
    rounds_[id] = std::move(round);
    mtu_stage(id);
}

// The next stage's probes, or the end of the search.
void PathProbe::mtu_stage(std::uint64_t id) {
    auto it = rounds_.find(id);
    if (it == rounds_.end()) return;
    Round& r = *it->second;
    MtuRun& m = *r.mtu;
    m.stage = m.search.next();
    if (m.stage.empty()) return mtu_finish(id);
    FlowRun& f = r.flows.front();
    // A generation of its own per stage: a late answer to the last stage is not this one's.
    f.memory->generation = static_cast<std::uint8_t>(f.memory->generation % 255 + 1);
    f.generation = f.memory->generation;
    m.tries.assign(m.stage.size(), {});
    m.unsettled = m.stage.size();
    m.queue.clear();
    const TimePoint now = wire_.now();
    for (std::size_t i = 0; i < m.stage.size(); ++i)
        m.queue.emplace_back(r.request.pacer ? r.request.pacer->reserve(now) : now, i);
    mtu_step(id);
}

void PathProbe::mtu_step(std::uint64_t id) {
    auto it = rounds_.find(id);
    if (it == rounds_.end()) return;
    Round& r = *it->second;
    MtuRun& m = *r.mtu;
    FlowRun& f = r.flows.front();
    const TimePoint now = wire_.now();
    const auto timeout = std::chrono::duration_cast<Clock::duration>(r.request.timeout);
    std::sort(m.queue.begin(), m.queue.end());
    std::size_t sent = 0;
    for (; sent < m.queue.size() && m.queue[sent].first <= now + kSendSlack; ++sent) {
        const std::size_t i = m.queue[sent].second;
        auto& tries = m.tries[i];
        if (tries.settled) continue;
        const MtuProbe& p = m.stage[i];
        const int attempt = static_cast<int>(tries.sent_ns.size());
        const int ttl = p.ttl ? p.ttl : r.params.max_ttl;
        const std::uint16_t number =
            ProbeNumber{static_cast<int>(i) + 1, attempt, f.generation}.encode();
        big_packet_.resize(std::max<std::size_t>(static_cast<std::size_t>(p.size), kPathMaxPacket));
        const std::size_t len =
            build_path_probe(big_packet_, f.flow, ttl, number, static_cast<std::size_t>(p.size));
        const std::int64_t at = wire_.wall_ns();
        const int err = len ? transmit(r, f.flow, {big_packet_.data(), len}, ttl) : EMSGSIZE;
        ++r.packets;
        ++stats_.packets_sent;
        m.search.count_packet();
        tries.sent_ns.push_back(err == 0 ? at : 0);
        tries.deadline.push_back(now + timeout);
        if (err == EMSGSIZE) {  // larger than this host lets out: a local limit, no reporter
            m.search.too_big(i, 0, std::nullopt);
            mtu_settled(r, i);
        } else if (err != 0 && err != EAGAIN && err != ENOBUFS) {
            r.error = std::string("sending an MTU probe: ") + std::strerror(err);
        }
    }
    m.queue.erase(m.queue.begin(), m.queue.begin() + static_cast<std::ptrdiff_t>(sent));
    if (!r.error.empty()) return mtu_finish(id);
    // Tries whose time is up: another, or silence.
    for (std::size_t i = 0; i < m.tries.size(); ++i) {
        auto& tries = m.tries[i];
        if (tries.settled || tries.deadline.empty() || tries.deadline.back() > now) continue;
        const bool queued = std::any_of(m.queue.begin(), m.queue.end(),
                                        [i](const auto& q) { return q.second == i; });
        if (queued) continue;
        if (static_cast<int>(tries.sent_ns.size()) < r.params.attempts) {
            m.queue.emplace_back(r.request.pacer ? r.request.pacer->reserve(now) : now, i);
        } else {
            m.search.silent(i);
            mtu_settled(r, i);
        }
    }
    if (m.unsettled == 0) {
        wire_.defer([this, id] { mtu_stage(id); });
        return;
    }
    TimePoint next = TimePoint::max();
    for (const auto& q : m.queue)
        next = std::min(next, q.first);
    for (const auto& tries : m.tries)
        if (!tries.settled && !tries.deadline.empty()) next = std::min(next, tries.deadline.back());
    if (m.timer) wire_.cancel_timer(m.timer);
    m.timer = wire_.add_timer(std::max(next, now), [this, id] {
        auto it = rounds_.find(id);
        if (it == rounds_.end()) return;
        it->second->mtu->timer = 0;
        mtu_step(id);
    });
}

void PathProbe::mtu_settled(Round& r, std::size_t probe) {
    auto& tries = r.mtu->tries[probe];
    if (tries.settled) return;
    tries.settled = true;
    --r.mtu->unsettled;
}

void PathProbe::mtu_answer(Round& r, const PathReply& reply) {
    MtuRun& m = *r.mtu;
    FlowRun& f = r.flows.front();
    if (!reply.number) return;
    ProbeNumber n = ProbeNumber::decode(*reply.number);
    // A reset from a closed port acknowledges the SYN's data too (RFC 9293: SEG.SEQ+SEG.LEN);
    // a SYN-ACK never does, as the server takes no data without a Fast Open cookie.
    if (reply.kind == PathReply::Kind::tcp && (reply.tcp_flags & 0x04)) {
        const std::size_t least = path_probe_bytes(f.flow);
        for (std::size_t k = 0; k < m.stage.size(); ++k) {
            const auto data =
                static_cast<std::uint32_t>(static_cast<std::size_t>(m.stage[k].size) - least);
            const ProbeNumber c =
                ProbeNumber::decode(static_cast<std::uint16_t>(*reply.number - data));
            if (c.generation == f.generation && c.ttl == static_cast<int>(k) + 1) n = c;
        }
    }
    if (n.generation != f.generation) {
        ++stats_.late;
        return;
    }
    const std::size_t i = static_cast<std::size_t>(n.ttl - 1);
    if (i >= m.stage.size() || m.tries[i].settled) return;
    if (static_cast<std::size_t>(n.attempt) >= m.tries[i].sent_ns.size()) return;
    ++stats_.answers;
    const bool v4 = f.flow.destination.family == AF_INET;
    const bool icmp_error = reply.kind == PathReply::Kind::icmp_error;
    if (icmp_error && (v4 ? reply.type == 3 && reply.code == 4 : reply.type == 2)) {
        m.search.too_big(i, reply.next_hop_mtu, reply.from);
    } else {
        PathAttempt a;
        a.answered = true;
        a.from = reply.from;
        a.icmp = icmp_error || reply.kind == PathReply::Kind::echo_reply;
        a.icmp_type = reply.type;
        a.icmp_code = reply.code;
        switch (classify_answer(a, r.request.destination)) {
            case PathAnswer::destination:
                m.search.reached(i);
                break;
            case PathAnswer::hop:
                m.search.hop_answered(i, reply.from);
                break;
            case PathAnswer::unreachable:  // refused on the way: says nothing about size
            case PathAnswer::prohibited:
                break;
        }
    }
    mtu_settled(r, i);
    if (m.unsettled == 0) {
        const std::uint64_t id = r.id;
        wire_.defer([this, id] { mtu_stage(id); });
    }
}

void PathProbe::mtu_finish(std::uint64_t id) {
    auto it = rounds_.find(id);
    if (it == rounds_.end()) return;
    std::unique_ptr<Round> round = std::move(it->second);
    rounds_.erase(it);
    Round& r = *round;
    MtuRun& m = *r.mtu;
    if (m.timer) wire_.cancel_timer(m.timer);
    active_.erase(r.flows.front().key);
    ProbeResult result = std::move(m.held);
    PathResult& path = std::get<PathResult>(result.kind);
    path.packets_sent = r.packets;
    if (!r.error.empty()) {
        result.outcome = Outcome::error;
        result.detail = r.error;
    } else {
        PathMtu mtu = m.search.result();
        if (r.request.networks) {
            if (mtu.reporter) mtu.reporter_network = r.request.networks->lookup(*mtu.reporter);
            if (mtu.blackhole_hop)
                mtu.blackhole_network = r.request.networks->lookup(*mtu.blackhole_hop);
        }
        // Full-size packets lost where small ones are lost too (a route withdrawn, a drop) is
        // the path's own fault, not a black hole: only a round that reached the destination
        // can tell the two apart.
        if (mtu.blackhole && (path.flows.empty() || path.flows.front().stop != PathStop::reached)) {
            mtu.blackhole = false;
            mtu.blackhole_ttl = 0;
            mtu.blackhole_hop.reset();
            mtu.blackhole_network.clear();
        }
        path.mtu = std::move(mtu);
    }
    deliver(std::move(round), std::move(result));
}

}  // namespace fedprobe
