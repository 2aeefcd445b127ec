#include "capture/passive_counts.hpp"

#include <algorithm>

namespace fedprobe {

std::string_view to_string(PassiveOutcome o) {
    switch (o) {
        case PassiveOutcome::ok:
            return "ok";
        case PassiveOutcome::refused:
            return "refused";
        case PassiveOutcome::filtered:
            return "filtered";
        case PassiveOutcome::prohibited:
            return "prohibited";
        case PassiveOutcome::unreachable:
            return "unreachable";
        case PassiveOutcome::retried:
            return "retried";
    }
    return "filtered";
}

void PassiveCounts::observe_handshake_time(std::uint16_t src, std::uint16_t dst, double seconds) {
    Times& t = handshake_times[key(src, dst, 0)];
    auto at = std::lower_bound(kHandshakeBuckets.begin(), kHandshakeBuckets.end(), seconds);
    ++t.buckets[static_cast<std::size_t>(at - kHandshakeBuckets.begin())];
    t.sum += seconds;
    ++t.count;
}

}  // namespace fedprobe
