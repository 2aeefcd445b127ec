// Matches ICMP replies and errors to the echo requests fedprobe sent: a ring of slots indexed
// by each request's 32-bit key, checked against id/sequence and the per-round nonce. Pure
// bookkeeping, no sockets, so every demultiplexing case is unit-tested.
//
// The ring starts small and doubles (up to kMaxRingBits) whenever the next key would land on a
// request still waiting, or on one sent less than kRememberNs before: so its size follows the
// send rate, not a fixed worst case (6 MiB at 10,000 targets before it grew on demand).
#pragma once

#include <cstdint>
#include <vector>

#include "probes/icmp/icmp_packet.hpp"

namespace fedprobe {

class EchoMatcher {
  public:
    static constexpr std::size_t kMinRingBits = 10;
    static constexpr std::size_t kMaxRingBits = 18;  // 262,144 requests in flight at most
    // How long after its send an answered or expired request is remembered, so a reply to it
    // is told apart as duplicate or late rather than unmatched (when the ring must not grow
    // for it).
    // 3 s: beyond the default timeout (2 s) with a margin, and at 10,000 echoes a second the
    // ring stays at 32,768 slots (768 KiB) where 5 s needed twice that.
    static constexpr std::int64_t kRememberNs = 3'000'000'000;

    enum class Verdict {
        pending,    // the first answer to a request still waiting
        duplicate,  // that request was answered already
        late,       // its round is over
        unmatched,  // names a key of ours still in the ring, but a wrong id, nonce or source
        foreign,    // not ours at all: another program's ping, or another fedprobe's
    };
    struct Lookup {
        Verdict verdict = Verdict::foreign;
        std::uint32_t key = 0;
        std::uint32_t round = 0;
        std::int64_t sent_ns = 0;
    };

    // raw: the key is written into id+sequence (raw sockets); otherwise the kernel owns the id
    // (ping sockets) and only the sequence is checked.
    explicit EchoMatcher(bool raw_ids = true) : raw_ids_(raw_ids) {}

    // Reserves the next key for a request of `round`. When the ring is at its largest and has
    // wrapped onto a request still waiting, evicted_round names its round (it can no longer be
    // answered).
    std::uint32_t add(std::uint32_t round, std::uint32_t nonce, std::int64_t sent_ns,
                      std::int64_t* evicted_round);
    void forget(std::uint32_t key);  // the send failed: nothing will answer
    // The request went at sent_ns (it waited in a send queue since add()): its RTT counts from
    // there.
    void sent_at(std::uint32_t key, std::int64_t sent_ns);
    void answered(std::uint32_t key);
    void expire(std::uint32_t key, std::uint32_t round);  // the round ended: later answers are late

    Lookup find(const IcmpMessage& m) const;
    void set_raw_ids(bool raw) { raw_ids_ = raw; }
    bool raw_ids() const { return raw_ids_; }
    void seed(std::uint32_t first_key) { next_key_ = first_key; }
    std::size_t capacity() const { return ring_.size(); }

  private:
    enum class State : std::uint8_t { free, waiting, answered, expired };
    struct Slot {
        std::uint32_t key = 0;
        std::uint32_t round = 0;
        std::uint32_t nonce = 0;
        State state = State::free;
        std::int64_t sent_ns = 0;
    };
    bool raw_ids_;
    std::uint32_t next_key_ = 0;
    std::uint32_t mask_ = 0;
    std::vector<Slot> ring_;

    void grow();
};

}  // namespace fedprobe
