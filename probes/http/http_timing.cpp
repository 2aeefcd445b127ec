#include "probes/http/http_timing.hpp"

#include <algorithm>

namespace fedprobe {

namespace {

// Seconds from `from` to `to`, or 0 when `to` was never reached (or the clock disagrees).
double span(std::int64_t from, std::int64_t to) {
    if (to <= 0) return 0;
    return static_cast<double>(std::max<std::int64_t>(0, to - from)) / 1e6;
}

}  // namespace

HttpPhases http_phases(const CurlTimes& t) {
    HttpPhases p;
    p.resolve = span(0, t.namelookup);
    p.connect = span(t.namelookup, t.connect);
    if (t.connect > 0) p.tls = span(t.connect, t.appconnect);
    if (t.pretransfer > 0) p.processing = span(t.pretransfer, t.starttransfer);
    if (t.starttransfer > 0) p.transfer = span(t.starttransfer, t.total);
    return p;
}

}  // namespace fedprobe
