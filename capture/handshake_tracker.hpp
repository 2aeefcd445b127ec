// Follows TCP handshakes seen on the wire and counts how each ended: a SYN answered by a
// SYN-ACK is `ok`, by a RST `refused`; an ICMP error quoting it is `prohibited`, `unreachable`
// or `refused` as the probes read the same error; no answer within the timeout of its last SYN
// is `filtered`. A SYN sent again with the same initial sequence number is the same handshake,
// and one answered after that also counts as `retried`. Handshakes are counted once, also when
// the client keeps retrying after it was counted filtered: a finished handshake lingers as a
// tombstone, which is the first thing given up when the table is full.
//
// Time is the packets' own (a capture file's, or the kernel's receive time), in ns since the
// epoch. Memory is bounded by max_flows. One thread (the capture's).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <span>

#include "capture/flow_table.hpp"
#include "capture/frame.hpp"
#include "capture/passive_counts.hpp"
#include "capture/passive_labels.hpp"
#include "core/duration.hpp"

namespace fedprobe {

struct HandshakeSettings {
    Duration timeout = std::chrono::seconds(3);
    std::size_t max_flows = 65536;
    // How long a finished handshake is remembered after its last SYN: longer than Linux's
    // longest gap between SYN retransmissions (64 s), so a client that retries a dropped SYN for
    // two minutes is one filtered handshake, not seven.
    Duration linger = std::chrono::seconds(65);
};

class HandshakeTracker {
  public:
    HandshakeTracker(const PassiveLabels& labels, HandshakeSettings settings);

    // One captured frame of `link_type`, in capture order: parsed, counted (packets, truncated,
    // malformed) and, when it is a segment or an ICMP error, followed. Live and offline
    // capture both feed frames through here.
    void add_frame(int link_type, std::span<const std::uint8_t> frame, std::int64_t ts_ns);
    // One parsed frame, in capture order.
    void add(const FrameHeaders& h, std::int64_t ts_ns);
    // Handshakes with no answer by now_ns (their last SYN plus the timeout) are filtered. add()
    // does this for its own timestamp; a live capture calls it when no packet comes.
    void expire(std::int64_t now_ns);
    // The end of a capture file. A handshake still within its timeout at the last frame's time
    // (any frame's: add_frame() expires first) has no outcome: the file ended before one could
    // be seen, so it is not counted. Returns how many those were.
    std::size_t finish();

    std::size_t tracked() const { return flows_.size(); }
    PassiveCounts& counts() { return counts_; }
    const PassiveCounts& counts() const { return counts_; }

  private:
    using Slot = FlowTable::Slot;
    struct Expiry {
        std::int64_t at;
        Slot slot;
        std::uint32_t generation;  // the slot's when queued: a reused slot is not this flow
    };

    const PassiveLabels& labels_;
    HandshakeSettings settings_;
    std::int64_t timeout_ns_, linger_ns_;
    FlowTable flows_;
    // In order of time: a refreshed flow leaves a stale entry behind, skipped when it comes up.
    std::deque<Expiry> waiting_, lingering_;
    PassiveCounts counts_;

    void syn(const FrameHeaders& h, std::int64_t ts);
    void answer(const FrameHeaders& h, std::int64_t ts);
    void icmp_error(const FrameHeaders& h);
    void finish_flow(Slot s, PassiveOutcome o);
    void queue(std::deque<Expiry>& q, std::int64_t at, Slot s) {
        q.push_back({at, s, flows_.generation(s)});
    }
    // The flow an expiry refers to, if that flow is still in its slot.
    HandshakeFlow* current(const Expiry& e) {
        return flows_.used(e.slot) && flows_.generation(e.slot) == e.generation
                   ? &flows_.flow(e.slot)
                   : nullptr;
    }
    bool make_room();
};

}  // namespace fedprobe
