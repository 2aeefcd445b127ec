// The clocks fedprobe reads. Scheduling and deadlines use the monotonic clock (as timerfd
// does); kernel receive timestamps (SO_TIMESTAMPNS) are wall-clock nanoseconds, so send times
// that are compared with them are taken from CLOCK_REALTIME too. Any thread.
#pragma once

#include <time.h>

#include <chrono>
#include <cstdint>

#include "core/duration.hpp"

namespace fedprobe {

using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC on Linux
using TimePoint = Clock::time_point;

inline std::int64_t realtime_ns() {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace fedprobe
