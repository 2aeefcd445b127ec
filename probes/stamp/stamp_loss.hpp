// Forward and backward loss from a stateful reflector's counter (RFC 8972 §4's stateful mode):
// the reflector numbers the packets it received in the session, so for the latest reply with
// sender sequence s and reflector sequence r, s - r of ours never reached it and r + 1 - (the
// replies we got) of its replies never reached us. Packets after the latest reply are not
// attributed until a later reply says which way they went. A reflector that restarts its
// count starts a new baseline; what was counted before it is kept. Plain value; one thread.
#pragma once

#include <cstdint>

namespace fedprobe {

class StampLoss {
  public:
    // One reply, each at most once (the probe drops duplicates).
    void reply(std::uint32_t sender_seq, std::uint32_t reflector_seq);
    std::uint64_t forward_lost() const;
    std::uint64_t backward_lost() const;
    std::uint64_t replies() const { return replies_; }

  private:
    bool any_ = false;
    std::uint32_t base_s_ = 0, base_r_ = 0;  // where the reflector's current count began
    std::uint32_t s_last_ = 0, r_last_ = 0;  // the latest reply by sender sequence
    std::uint64_t since_base_ = 0;           // replies received in the current count
    std::uint64_t replies_ = 0;
    std::uint64_t carried_forward_ = 0, carried_backward_ = 0;
};

}  // namespace fedprobe
