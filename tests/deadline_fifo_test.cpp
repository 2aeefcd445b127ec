#include <doctest/doctest.h>

#include "core/deadline_fifo.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;

namespace {

std::vector<std::uint32_t> due_ids(DeadlineFifo& f, TimePoint now) {
    std::vector<std::uint32_t> ids;
    while (auto e = f.pop_due(now))
        ids.push_back(e->id);
    return ids;
}

}  // namespace

TEST_CASE("deadlines of different timeouts come due in time order, not in the order set") {
    DeadlineFifo f;
    const TimePoint t0{};
    CHECK(!f.earliest());
    f.push(1s, t0, 1, 0);            // due at 1 s
    f.push(100ms, t0 + 10ms, 2, 0);  // 110 ms
    f.push(1s, t0 + 20ms, 3, 0);     // 1.02 s
    f.push(100ms, t0 + 30ms, 4, 0);  // 130 ms
    f.push(5s, t0 + 40ms, 5, 0);     // 5.04 s
    CHECK(f.size() == 5);
    CHECK(*f.earliest() == t0 + 110ms);
    CHECK(due_ids(f, t0 + 109ms).empty());
    CHECK(due_ids(f, t0 + 130ms) == std::vector<std::uint32_t>{2, 4});
    CHECK(*f.earliest() == t0 + 1s);
    CHECK(due_ids(f, t0 + 2s) == std::vector<std::uint32_t>{1, 3});
    CHECK(f.size() == 1);
    CHECK(due_ids(f, t0 + 10s) == std::vector<std::uint32_t>{5});
    CHECK(!f.earliest());
    CHECK(f.size() == 0);
}

TEST_CASE("a deadline keeps its generation, and a clock that went back cannot reorder a queue") {
    DeadlineFifo f;
    const TimePoint t0 = TimePoint{} + 1h;
    CHECK(f.push(1s, t0, 7, 41) == t0 + 1s);
    // Would be due before the first: held at the first's time.
    CHECK(f.push(1s, t0 - 500ms, 8, 42) == t0 + 1s);
    CHECK(*f.earliest() == t0 + 1s);
    auto a = f.pop_due(t0 + 1s);
    auto b = f.pop_due(t0 + 1s);
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->id == 7);
    CHECK(a->generation == 41);
    CHECK(b->id == 8);
    CHECK(b->generation == 42);
    CHECK(b->when == t0 + 1s);
}
