#include <doctest/doctest.h>

#include "probes/path/router_pacer.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;

namespace {
const IpAddress kRouter = *IpAddress::parse("192.0.2.1");
const IpAddress kOther = *IpAddress::parse("192.0.2.2");
const TimePoint kT0 = TimePoint{} + 1000h;
}  // namespace

TEST_CASE("a router that answers everything is never spaced") {
    RouterPacer p;
    for (int i = 0; i < 1000; ++i)
        CHECK(p.slot(kRouter, kT0, 1s) == kT0);
    CHECK(p.size() == 0);
}

TEST_CASE("after a miss, probes to that router are spaced; the gap doubles up to 1 s") {
    RouterPacer p;
    p.missed(kRouter, 20ms, kT0);
    CHECK(p.gap(kRouter, kT0) == 20ms);
    CHECK(p.slot(kRouter, kT0, 1s) == kT0);
    CHECK(p.slot(kRouter, kT0, 1s) == kT0 + 20ms);
    CHECK(p.slot(kRouter, kT0, 1s) == kT0 + 40ms);
    CHECK(p.slot(kOther, kT0, 1s) == kT0);  // only that router
    p.missed(kRouter, 20ms, kT0);
    CHECK(p.gap(kRouter, kT0) == 40ms);
    for (int i = 0; i < 10; ++i)
        p.missed(kRouter, 20ms, kT0);
    CHECK(p.gap(kRouter, kT0) == RouterPacer::kMaxGap);
    p.missed(kOther, 0ms, kT0);  // router_spacing = 0: never spaced
    CHECK(p.gap(kOther, kT0) == 0ms);
}

TEST_CASE("spacing never holds a probe longer than max_hold") {
    RouterPacer p;
    p.missed(kRouter, 300ms, kT0);
    CHECK(p.slot(kRouter, kT0, 1s) == kT0);
    CHECK(p.slot(kRouter, kT0, 1s) == kT0 + 300ms);
    CHECK(p.slot(kRouter, kT0, 1s) == kT0 + 600ms);
    CHECK(p.slot(kRouter, kT0, 1s) == kT0 + 900ms);
    CHECK(p.slot(kRouter, kT0, 1s) == kT0);  // the next slot is 1.2 s off: it goes now
}

TEST_CASE("a router without a miss for 10 minutes is forgotten") {
    RouterPacer p;
    p.missed(kRouter, 20ms, kT0);
    p.missed(kOther, 20ms, kT0 + 9min);
    p.forget_idle(kT0 + 11min);
    CHECK(p.size() == 1);
    CHECK(p.gap(kRouter, kT0 + 11min) == 0ms);
    CHECK(p.slot(kOther, kT0 + 20min, 1s) == kT0 + 20min);  // expired on use too
    CHECK(p.size() == 0);
}
