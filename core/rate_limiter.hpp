// Per-destination-network rate limit, so one appliance can never flood another organisation.
// GCRA (virtual scheduling): each probe reserves a slot in time, which keeps the order of
// waiting probes fair and costs O(1) however many are waiting. The scheduler reserves one slot
// per round; probes that send many packets per round (path) reserve one per further packet.
// Not thread-safe: the probing thread only.
#pragma once

#include <algorithm>
#include <chrono>

#include "core/clock.hpp"

namespace fedprobe {

class RateLimiter {
  public:
    // The burst fedprobe allows at `rate`: a fifth of a second's worth, at least one probe.
    static double default_burst(double rate) { return std::max(1.0, rate / 5); }

    // rate in probes/s; burst: how many may go back to back after a quiet spell.
    RateLimiter(double rate, double burst)
        : spacing_(std::chrono::duration_cast<Clock::duration>(
              std::chrono::duration<double>(1.0 / rate))),
          tolerance_(spacing_ * static_cast<long>(std::max(0.0, burst - 1))) {}

    // Reserves a slot; returns when the probe may start (now, or later).
    TimePoint reserve(TimePoint now) {
        TimePoint eligible = std::max(now, tat_ - tolerance_);
        tat_ = std::max(tat_, now) + spacing_;
        return eligible;
    }
    Clock::duration spacing() const { return spacing_; }
    Clock::duration tolerance() const { return tolerance_; }

  private:
    Clock::duration spacing_;
    Clock::duration tolerance_;
    TimePoint tat_{};  // theoretical arrival time of the next conforming probe
};

}  // namespace fedprobe
