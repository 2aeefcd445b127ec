#include "capture/handshake_tracker.hpp"

#include <netinet/in.h>

#include <cstring>

#include "probes/outcome.hpp"

namespace fedprobe {

std::size_t HandshakeTracker::KeyHash::operator()(const Key& k) const {
    // Two multiply-xorshift rounds over the addresses and ports: cheap, and good enough that
    // a capture's many flows between the same two hosts spread over the buckets.
    std::uint64_t w[4];
    std::memcpy(w, k.client.data(), 16);
    std::memcpy(w + 2, k.server.data(), 16);
    std::uint64_t h = (std::uint64_t{k.client_port} << 16 | k.server_port) ^ k.family;
    for (std::uint64_t x : w) {
        h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
        h *= 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 31;
    }
    return static_cast<std::size_t>(h);
}

HandshakeTracker::HandshakeTracker(const PassiveLabels& labels, HandshakeSettings settings)
    : labels_(labels),
      settings_(settings),
      timeout_ns_(std::chrono::duration_cast<std::chrono::nanoseconds>(settings.timeout).count()),
      linger_ns_(std::chrono::duration_cast<std::chrono::nanoseconds>(settings.linger).count()) {
    flows_.reserve(settings_.max_flows);
}

void HandshakeTracker::add(const FrameHeaders& h, std::int64_t ts) {
    expire(ts);
    if (h.kind == FrameKind::icmp_error) {
        icmp_error(h);
        return;
    }
    const std::uint8_t f = h.tcp_flags;
    if ((f & (kTcpSyn | kTcpAck | kTcpRst)) == kTcpSyn) {
        syn(h, ts);
    } else if ((f & (kTcpSyn | kTcpAck)) == (kTcpSyn | kTcpAck) || (f & kTcpRst)) {
        answer(h, ts);
    }
    // FINs and the rest end sessions, not handshakes.
}

void HandshakeTracker::syn(const FrameHeaders& h, std::int64_t ts) {
    ++counts_.syns;
    Key key{h.src.bytes, h.dst.bytes, h.sport, h.dport, static_cast<std::uint8_t>(h.src.family)};
    auto it = flows_.find(key);
    if (it != flows_.end()) {
        Flow& f = it->second;
        if (f.isn == h.seq) {  // the same handshake's SYN again
            f.last_syn_ns = ts;
            if (f.done) {
                lingering_.push_back({ts + linger_ns_, key});
            } else {
                if (f.syns < UINT16_MAX) ++f.syns;
                waiting_.push_back({ts + timeout_ns_, key});
            }
            return;
        }
        // A new connection on the same ports: whatever the old one waited for never came.
        if (!f.done) finish_flow(key, f, PassiveOutcome::filtered);
        flows_.erase(it);
    }
    if (flows_.size() >= settings_.max_flows && !make_room()) {
        ++counts_.flow_table_full;
        return;
    }
    Flow f{ts,
           ts,
           h.seq,
           1,
           labels_.network_of(h.src),
           labels_.network_of(h.dst),
           labels_.service_of(h.dport),
           false};
    flows_.emplace(key, f);
    waiting_.push_back({ts + timeout_ns_, key});
}

void HandshakeTracker::answer(const FrameHeaders& h, std::int64_t ts) {
    Key key{h.dst.bytes, h.src.bytes, h.dport, h.sport, static_cast<std::uint8_t>(h.src.family)};
    auto it = flows_.find(key);
    if (it == flows_.end() || it->second.done) return;
    Flow& f = it->second;
    // A SYN-ACK or RST answering this SYN acknowledges its ISN + 1 (a RST to a SYN always
    // carries the ACK bit, RFC 9293 3.10.7.1); anything else belongs to another connection.
    if (!(h.tcp_flags & kTcpAck) || h.ack != f.isn + 1) return;
    if (h.tcp_flags & kTcpRst) {
        finish_flow(key, f, PassiveOutcome::refused);
        return;
    }
    counts_.observe_handshake_time(f.src, f.dst, static_cast<double>(ts - f.first_syn_ns) / 1e9);
    finish_flow(key, f, PassiveOutcome::ok);
}

void HandshakeTracker::icmp_error(const FrameHeaders& h) {
    Outcome o = h.src.family == AF_INET ? outcome_from_icmp4(h.icmp_type, h.icmp_code)
                                        : outcome_from_icmp6(h.icmp_type, h.icmp_code);
    PassiveOutcome po;
    switch (o) {
        case Outcome::refused:
            po = PassiveOutcome::refused;
            break;
        case Outcome::prohibited:
            po = PassiveOutcome::prohibited;
            break;
        case Outcome::unreachable:
            po = PassiveOutcome::unreachable;
            break;
        default:
            return;  // fragmentation needed and the like say nothing about the flow
    }
    counts_.count_icmp_error(labels_.network_of(h.quoted_src), labels_.network_of(h.quoted_dst),
                             labels_.network_of(h.src), po);
    if (h.quoted_protocol != IPPROTO_TCP) return;
    Key key{h.quoted_src.bytes, h.quoted_dst.bytes, h.sport, h.dport,
            static_cast<std::uint8_t>(h.quoted_src.family)};
    auto it = flows_.find(key);
    if (it == flows_.end() || it->second.done) return;
    if (h.quoted_seq_known && h.seq != it->second.isn) return;
    finish_flow(key, it->second, po);
}

void HandshakeTracker::finish_flow(const Key& key, Flow& f, PassiveOutcome o) {
    counts_.count_handshake(f.src, f.dst, f.service, o);
    if (f.syns > 1 && o != PassiveOutcome::filtered)
        counts_.count_handshake(f.src, f.dst, f.service, PassiveOutcome::retried);
    f.done = true;
    lingering_.push_back({f.last_syn_ns + linger_ns_, key});
}

void HandshakeTracker::expire(std::int64_t now) {
    while (!waiting_.empty() && waiting_.front().at <= now) {
        Expiry e = waiting_.front();
        waiting_.pop_front();
        auto it = flows_.find(e.key);
        if (it == flows_.end() || it->second.done) continue;
        if (it->second.last_syn_ns + timeout_ns_ != e.at) continue;  // a later SYN waits longer
        finish_flow(e.key, it->second, PassiveOutcome::filtered);
    }
    while (!lingering_.empty() && lingering_.front().at <= now) {
        Expiry e = lingering_.front();
        lingering_.pop_front();
        auto it = flows_.find(e.key);
        if (it == flows_.end() || !it->second.done) continue;
        if (it->second.last_syn_ns + linger_ns_ != e.at) continue;
        flows_.erase(it);
    }
}

bool HandshakeTracker::make_room() {
    // The oldest tombstone goes first: it only stops a late retransmission being counted twice.
    while (!lingering_.empty()) {
        Expiry e = lingering_.front();
        lingering_.pop_front();
        auto it = flows_.find(e.key);
        if (it == flows_.end() || !it->second.done) continue;
        if (it->second.last_syn_ns + linger_ns_ != e.at) continue;
        flows_.erase(it);
        return true;
    }
    return false;
}

std::size_t HandshakeTracker::finish() {
    std::size_t unfinished = 0;
    for (const auto& entry : flows_)
        unfinished += !entry.second.done;
    flows_.clear();
    waiting_.clear();
    lingering_.clear();
    return unfinished;
}

}  // namespace fedprobe
