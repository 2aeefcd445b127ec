#include <doctest/doctest.h>

#include <map>
#include <random>

#include "engine/due_queue.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;

namespace {

DueQueue::Entry at(TimePoint when, std::uint32_t index) {
    return {when, index, index};
}

}  // namespace

TEST_CASE("entries come out earliest first, whichever lane or the heap holds them") {
    DueQueue q;
    const TimePoint t0{};
    q.push(at(t0 + 30ms, 1), 1s);
    q.push(at(t0 + 10ms, 2), 1s);  // earlier than its lane's last: the heap
    q.push(at(t0 + 20ms, 3), 5s);
    q.push(at(t0 + 40ms, 4), 1s);
    q.push(at(t0 + 5ms, 5), 5s);  // the heap too
    CHECK(q.size() == 5);
    std::vector<std::uint32_t> order;
    while (!q.empty()) {
        const std::uint32_t expected = q.top().index;
        order.push_back(q.pop().index);
        CHECK(order.back() == expected);
    }
    CHECK(order == std::vector<std::uint32_t>{5, 2, 3, 1, 4});
}

TEST_CASE("random pushes and pops over more intervals than lanes match a sorted reference") {
    std::mt19937 rng(7);
    DueQueue q;
    std::multimap<TimePoint, std::uint32_t> ref;
    const TimePoint t0{};
    TimePoint now = t0;
    std::uint32_t next = 0;
    // Mostly steady rounds (pushed at now + interval, in order per interval) over 12 intervals,
    // some arbitrary times (rate-limit slots, new jobs), and time moving on between pops.
    for (int step = 0; step < 20000; ++step) {
        const int what = static_cast<int>(rng() % 10);
        if (what < 6 || ref.empty()) {
            const auto interval = std::chrono::milliseconds(100 * (1 + rng() % 12));
            TimePoint when = now + interval;
            if (what == 0) when = now + std::chrono::microseconds(rng() % 3'000'000);
            q.push(at(when, next), interval);
            ref.emplace(when, next);
            ++next;
        } else {
            REQUIRE(!q.empty());
            const auto e = q.pop();
            // Equal times may come out in either order: compare the time, then drop that entry.
            REQUIRE(e.when == ref.begin()->first);
            auto [lo, hi] = ref.equal_range(e.when);
            auto it = lo;
            while (it != hi && it->second != e.index)
                ++it;
            REQUIRE(it != hi);
            ref.erase(it);
            now = e.when;
        }
        REQUIRE(q.size() == ref.size());
    }
}

TEST_CASE("erase_if drops what it selects and the rest keep their order") {
    DueQueue q;
    const TimePoint t0{};
    for (std::uint32_t i = 0; i < 100; ++i)
        q.push(at(t0 + std::chrono::milliseconds(i), i), i % 2 ? 1s : 2s);
    q.push(at(t0 + 1ms, 1000), 1s);  // out of order: the heap
    q.erase_if([](const DueQueue::Entry& e) { return e.index % 3 == 0; });
    CHECK(q.size() == 66 + 1);
    std::uint32_t last = 0;
    TimePoint last_when = t0;
    bool heap_entry_seen = false;
    while (!q.empty()) {
        const auto e = q.pop();
        CHECK(e.index % 3 != 0);
        CHECK(e.when >= last_when);
        if (e.index == 1000) {
            heap_entry_seen = true;
            continue;
        }
        CHECK((last == 0 || e.index > last));
        last = e.index;
        last_when = e.when;
    }
    CHECK(heap_entry_seen);
}

TEST_CASE("a lane left empty by an interval that went is taken over by a new one") {
    DueQueue q;
    const TimePoint t0{};
    // Fill every lane, then empty them all.
    for (std::uint32_t i = 0; i < DueQueue::kMaxLanes; ++i)
        q.push(at(t0 + std::chrono::milliseconds(i), i), std::chrono::seconds(i + 1));
    while (!q.empty())
        q.pop();
    // New intervals (a reload) still come out in order, many per lane and out of order.
    for (std::uint32_t i = 0; i < 1000; ++i) {
        const auto interval = std::chrono::seconds(100 + i % 20);
        q.push(at(t0 + std::chrono::milliseconds((i * 7919) % 1000), i), interval);
    }
    TimePoint last = t0;
    std::size_t n = 0;
    while (!q.empty()) {
        const auto e = q.pop();
        CHECK(e.when >= last);
        last = e.when;
        ++n;
    }
    CHECK(n == 1000);
}
