#include <doctest/doctest.h>

#include "core/duration.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;

TEST_CASE("Prometheus-style durations") {
    CHECK(*parse_duration("15s") == 15s);
    CHECK(*parse_duration("500ms") == 500ms);
    CHECK(*parse_duration("1m30s") == 90s);
    CHECK(*parse_duration("2h") == 2h);
    CHECK(*parse_duration("1d") == 24h);
    CHECK_FALSE(parse_duration("15"));
    CHECK_FALSE(parse_duration("1.5s"));
    CHECK_FALSE(parse_duration("s"));
    CHECK_FALSE(parse_duration("-1s"));
    CHECK_FALSE(parse_duration("10 s"));
    CHECK_FALSE(parse_duration("999999999d"));
    CHECK(format_duration(1500ms) == "1500ms");
    CHECK(format_duration(2s) == "2s");
}
