#include "probes/path/router_pacer.hpp"

#include <algorithm>

namespace fedprobe {

TimePoint RouterPacer::slot(const IpAddress& router, TimePoint now, Duration max_hold) {
    auto it = routers_.find(router.bytes);
    if (it == routers_.end()) return now;
    Pace& p = it->second;
    if (now - p.last_miss > kMemory) {
        routers_.erase(it);
        return now;
    }
    const TimePoint when = std::max(now, p.next);
    if (when - now > max_hold) return now;
    p.next = when + std::chrono::duration_cast<Clock::duration>(p.gap);
    return when;
}

void RouterPacer::missed(const IpAddress& router, Duration first_gap, TimePoint now) {
    if (first_gap <= Duration::zero()) return;
    Pace& p = routers_[router.bytes];
    p.gap = p.gap <= Duration::zero() ? first_gap : std::min<Duration>(p.gap * 2, kMaxGap);
    p.last_miss = now;
}

void RouterPacer::forget_idle(TimePoint now) {
    std::erase_if(routers_, [&](const auto& e) { return now - e.second.last_miss > kMemory; });
}

Duration RouterPacer::gap(const IpAddress& router, TimePoint now) const {
    auto it = routers_.find(router.bytes);
    if (it == routers_.end() || now - it->second.last_miss > kMemory) return Duration::zero();
    return it->second.gap;
}

}  // namespace fedprobe
