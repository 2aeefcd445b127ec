#include "probes/stamp/stamp_loss.hpp"

#include <algorithm>

namespace fedprobe {

void StampLoss::reply(std::uint32_t s, std::uint32_t r) {
    ++replies_;
    if (any_ && s <= s_last_) {  // reordered: counted by the reflector already
        if (s >= base_s_) ++since_base_;
        return;
    }
    // The reflector's count went back, or claims more packets than we sent since its start:
    // it restarted (or the session is a stale one of the same port). Keep what was counted.
    const bool restarted =
        any_ && (r < r_last_ || std::uint64_t{r - base_r_} > std::uint64_t{s - base_s_});
    const bool impossible = !any_ && r > s;
    if (restarted || impossible) {
        carried_forward_ = forward_lost();
        carried_backward_ = backward_lost();
        // The new count began at our packet s - r at the latest: assume none of ours was lost
        // since it began.
        base_s_ = r <= s ? s - r : s;
        base_r_ = r <= s ? 0 : r;
        since_base_ = 0;
    }
    any_ = true;
    s_last_ = s;
    r_last_ = r;
    ++since_base_;
}

std::uint64_t StampLoss::forward_lost() const {
    if (!any_) return carried_forward_;
    const std::uint64_t sent = std::uint64_t{s_last_ - base_s_} + 1;
    const std::uint64_t arrived = std::uint64_t{r_last_ - base_r_} + 1;
    return carried_forward_ + (sent > arrived ? sent - arrived : 0);
}

std::uint64_t StampLoss::backward_lost() const {
    if (!any_) return carried_backward_;
    const std::uint64_t reflected = std::uint64_t{r_last_ - base_r_} + 1;
    return carried_backward_ + (reflected > since_base_ ? reflected - since_base_ : 0);
}

}  // namespace fedprobe
