// Spacing of path probes expected at the same router. Routers rate-limit the time-exceeded
// messages they send (Linux: about one a second per source after a small burst), so once a
// router is seen leaving a TTL unanswered while later TTLs answer, probes to it are spaced: by
// path.router_spacing at first, doubling with each further miss up to 1 s. A router that
// answers everything is never spaced, so a round over many destinations is held only by the
// rate limit; one without a miss for 10 minutes is forgotten.
// Pure bookkeeping on times the caller gives; the probing thread only.
#pragma once

#include <array>
#include <cstdint>
#include <map>

#include "core/address.hpp"
#include "core/clock.hpp"

namespace fedprobe {

class RouterPacer {
  public:
    static constexpr Duration kMaxGap = std::chrono::seconds(1);
    static constexpr Duration kMemory = std::chrono::minutes(10);

    // When a probe expected at `router` may go: now for a router never seen missing, else the
    // router's next free slot. A slot further off than `max_hold` is not taken: the probe goes
    // now and the router's silence is accepted (it reads as rate limiting, never as a change),
    // so spacing never stretches a round by more than `max_hold`.
    TimePoint slot(const IpAddress& router, TimePoint now, Duration max_hold);
    // The router left a TTL unanswered: start spacing it with `first_gap`, or double its gap.
    void missed(const IpAddress& router, Duration first_gap, TimePoint now);
    // Drops routers without a miss for kMemory.
    void forget_idle(TimePoint now);
    // The router's current gap; zero when it is not spaced.
    Duration gap(const IpAddress& router, TimePoint now) const;
    std::size_t size() const { return routers_.size(); }

  private:
    struct Pace {
        Duration gap{};
        TimePoint next{};
        TimePoint last_miss{};
    };
    std::map<std::array<std::uint8_t, 16>, Pace> routers_;
};

}  // namespace fedprobe
