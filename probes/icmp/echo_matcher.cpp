#include "probes/icmp/echo_matcher.hpp"

namespace fedprobe {

std::uint32_t EchoMatcher::add(std::uint32_t round, std::uint32_t nonce, std::int64_t sent_ns,
                               std::int64_t* evicted_round) {
    if (ring_.empty()) {  // only once ICMP is used
        ring_.resize(std::size_t{1} << kMinRingBits);
        mask_ = static_cast<std::uint32_t>(ring_.size() - 1);
    }
    std::uint32_t key = next_key_++;
    while (ring_.size() < (std::size_t{1} << kMaxRingBits)) {
        const Slot& s = ring_[key & mask_];
        const bool busy = s.state == State::waiting ||
                          (s.state != State::free && sent_ns - s.sent_ns < kRememberNs);
        if (!busy) break;
        grow();
    }
    Slot& slot = ring_[key & mask_];
    if (evicted_round)
        *evicted_round = slot.state == State::waiting ? std::int64_t{slot.round} : -1;
    slot = Slot{key, round, nonce, State::waiting, sent_ns};
    return key;
}

// Keys are handed out in sequence, so the slots in use hold distinct keys modulo the old size,
// and so modulo twice that: every one has a place of its own in the new ring.
void EchoMatcher::grow() {
    std::vector<Slot> bigger(ring_.size() * 2);
    const auto mask = static_cast<std::uint32_t>(bigger.size() - 1);
    for (const Slot& s : ring_)
        if (s.state != State::free) bigger[s.key & mask] = s;
    ring_ = std::move(bigger);
    mask_ = mask;
}

void EchoMatcher::forget(std::uint32_t key) {
    Slot& slot = ring_[key & mask_];
    if (slot.key == key) slot.state = State::free;
}

void EchoMatcher::sent_at(std::uint32_t key, std::int64_t sent_ns) {
    if (ring_.empty()) return;
    Slot& slot = ring_[key & mask_];
    if (slot.key == key && slot.state == State::waiting) slot.sent_ns = sent_ns;
}

void EchoMatcher::answered(std::uint32_t key) {
    Slot& slot = ring_[key & mask_];
    if (slot.key == key && slot.state == State::waiting) slot.state = State::answered;
}

void EchoMatcher::expire(std::uint32_t key, std::uint32_t round) {
    if (ring_.empty()) return;
    Slot& slot = ring_[key & mask_];
    if (slot.key == key && slot.round == round && slot.state != State::free)
        slot.state = State::expired;
}

EchoMatcher::Lookup EchoMatcher::find(const IcmpMessage& m) const {
    Lookup out;
    if (m.kind != IcmpMessage::Kind::echo_reply && m.kind != IcmpMessage::Kind::error) return out;
    std::uint32_t key;
    if (m.has_token) {
        key = m.key;
    } else if (m.kind == IcmpMessage::Kind::error && raw_ids_) {
        key =
            std::uint32_t{m.seq} << 16 | m.id;  // a quote cut after 8 bytes still names the request
    } else {
        return out;  // a reply without our marker: someone else's ping
    }
    // Keys run in sequence from a random start, so one this matcher never issued (or issued
    // more than a ring ago) belongs to another fedprobe on this host reading the same raw ICMP,
    // such as `fedprobe check` beside the daemon: not a reply to us that went astray.
    const std::uint32_t age = next_key_ - key;
    if (ring_.empty() || age == 0 || age > ring_.size()) return out;
    out.verdict = Verdict::unmatched;
    out.key = key;
    const Slot& slot = ring_[key & mask_];
    if (slot.key != key || slot.state == State::free) return out;
    bool id_ok = raw_ids_ ? (m.id == static_cast<std::uint16_t>(key) &&
                             m.seq == static_cast<std::uint16_t>(key >> 16))
                          : m.seq == static_cast<std::uint16_t>(key);
    if (!id_ok) return out;
    if (m.has_token && m.nonce != slot.nonce) return out;
    out.round = slot.round;
    out.sent_ns = slot.sent_ns;
    switch (slot.state) {
        case State::waiting:
            out.verdict = Verdict::pending;
            break;
        case State::answered:
            out.verdict = Verdict::duplicate;
            break;
        case State::expired:
            out.verdict = Verdict::late;
            break;
        case State::free:
            break;
    }
    return out;
}

}  // namespace fedprobe
