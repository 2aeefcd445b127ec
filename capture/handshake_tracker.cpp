#include "capture/handshake_tracker.hpp"

#include <netinet/in.h>

#include "probes/outcome.hpp"

namespace fedprobe {

HandshakeTracker::HandshakeTracker(const PassiveLabels& labels, HandshakeSettings settings)
    : labels_(labels),
      settings_(settings),
      timeout_ns_(std::chrono::duration_cast<std::chrono::nanoseconds>(settings.timeout).count()),
      linger_ns_(std::chrono::duration_cast<std::chrono::nanoseconds>(settings.linger).count()),
      flows_(settings.max_flows) {}

void HandshakeTracker::add_frame(int link_type, std::span<const std::uint8_t> frame,
                                 std::int64_t ts) {
    ++counts_.packets;
    // Every frame is a clock: an echo, a UDP datagram or a frame cut short still says that this
    // much time has passed, and a handshake silent that long is filtered, whatever comes next.
    expire(ts);
    FrameHeaders h;
    switch (parse_frame(link_type, frame, h)) {
        case FrameStatus::ok:
            return add(h, ts);
        case FrameStatus::truncated:
            ++counts_.truncated;
            return;
        case FrameStatus::malformed:
            ++counts_.malformed;
            return;
        default:
            return;
    }
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
    const HandshakeKey key{h.src.bytes, h.dst.bytes, h.sport, h.dport,
                           static_cast<std::uint8_t>(h.src.family)};
    const std::uint64_t hash = key.hash();
    if (Slot s = flows_.find(key, hash); s != FlowTable::kNone) {
        HandshakeFlow& f = flows_.flow(s);
        if (f.isn == h.seq) {  // the same handshake's SYN again
            f.last_syn_ns = ts;
            if (f.done) {
                queue(lingering_, ts + linger_ns_, s);
            } else {
                if (f.syns < UINT16_MAX) ++f.syns;
                queue(waiting_, ts + timeout_ns_, s);
            }
            return;
        }
        // A new connection on the same ports: whatever the old one waited for never came.
        if (!f.done) finish_flow(s, PassiveOutcome::filtered);
        flows_.erase(s);
    }
    if (flows_.size() >= flows_.capacity() && !make_room()) {
        ++counts_.flow_table_full;
        return;
    }
    HandshakeFlow f;
    f.first_syn_ns = f.last_syn_ns = ts;
    f.isn = h.seq;
    f.syns = 1;
    f.src = labels_.network_of(h.src);
    f.dst = labels_.network_of(h.dst);
    f.service = labels_.service_of(h.dport);
    queue(waiting_, ts + timeout_ns_, flows_.insert(key, hash, f));
}

void HandshakeTracker::answer(const FrameHeaders& h, std::int64_t ts) {
    const HandshakeKey key{h.dst.bytes, h.src.bytes, h.dport, h.sport,
                           static_cast<std::uint8_t>(h.src.family)};
    const Slot s = flows_.find(key);
    if (s == FlowTable::kNone) return;
    HandshakeFlow& f = flows_.flow(s);
    if (f.done) return;
    // A SYN-ACK or RST answering this SYN acknowledges its ISN + 1 (a RST to a SYN always
    // carries the ACK bit, RFC 9293 3.10.7.1); anything else belongs to another connection.
    if (!(h.tcp_flags & kTcpAck) || h.ack != f.isn + 1) return;
    if (h.tcp_flags & kTcpRst) {
        finish_flow(s, PassiveOutcome::refused);
        return;
    }
    counts_.observe_handshake_time(f.src, f.dst, static_cast<double>(ts - f.first_syn_ns) / 1e9);
    finish_flow(s, PassiveOutcome::ok);
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
    const HandshakeKey key{h.quoted_src.bytes, h.quoted_dst.bytes, h.sport, h.dport,
                           static_cast<std::uint8_t>(h.quoted_src.family)};
    const Slot s = flows_.find(key);
    if (s == FlowTable::kNone) return;
    const HandshakeFlow& f = flows_.flow(s);
    if (f.done || (h.quoted_seq_known && h.seq != f.isn)) return;
    finish_flow(s, po);
}

void HandshakeTracker::finish_flow(Slot s, PassiveOutcome o) {
    HandshakeFlow& f = flows_.flow(s);
    counts_.count_handshake(f.src, f.dst, f.service, o);
    if (f.syns > 1 && o != PassiveOutcome::filtered)
        counts_.count_handshake(f.src, f.dst, f.service, PassiveOutcome::retried);
    f.done = true;
    queue(lingering_, f.last_syn_ns + linger_ns_, s);
}

void HandshakeTracker::expire(std::int64_t now) {
    while (!waiting_.empty() && waiting_.front().at <= now) {
        const Expiry e = waiting_.front();
        waiting_.pop_front();
        const HandshakeFlow* f = current(e);
        // Answered already, or a later SYN made it wait longer.
        if (!f || f->done || f->last_syn_ns + timeout_ns_ != e.at) continue;
        finish_flow(e.slot, PassiveOutcome::filtered);
    }
    while (!lingering_.empty() && lingering_.front().at <= now) {
        const Expiry e = lingering_.front();
        lingering_.pop_front();
        const HandshakeFlow* f = current(e);
        if (!f || !f->done || f->last_syn_ns + linger_ns_ != e.at) continue;
        flows_.erase(e.slot);
    }
}

bool HandshakeTracker::make_room() {
    // The oldest tombstone goes first: it only stops a late retransmission being counted twice.
    while (!lingering_.empty()) {
        const Expiry e = lingering_.front();
        lingering_.pop_front();
        const HandshakeFlow* f = current(e);
        if (!f || !f->done || f->last_syn_ns + linger_ns_ != e.at) continue;
        flows_.erase(e.slot);
        ++counts_.evicted;
        return true;
    }
    return false;
}

std::size_t HandshakeTracker::finish() {
    std::size_t unfinished = 0;
    for (Slot s = 0; s < flows_.capacity(); ++s)
        unfinished += flows_.used(s) && !flows_.flow(s).done;
    flows_.clear();
    waiting_.clear();
    lingering_.clear();
    return unfinished;
}

}  // namespace fedprobe
