#include <doctest/doctest.h>

#include <map>
#include <random>

#include "core/due_queue.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;

namespace {

struct Entry {
    TimePoint when;
    std::uint32_t index;
    std::uint32_t generation;
};
using Queue = DueQueue<Entry>;

Entry at(TimePoint when, std::uint32_t index) {
    return {when, index, index};
}

std::vector<std::uint32_t> due_ids(Queue& q, TimePoint now) {
    std::vector<std::uint32_t> ids;
    while (auto e = q.pop_due(now))
        ids.push_back(e->index);
    return ids;
}

}  // namespace

TEST_CASE("entries come out earliest first, whichever lane or the heap holds them") {
    Queue q;
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
    Queue q;
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
    Queue q;
    const TimePoint t0{};
    for (std::uint32_t i = 0; i < 100; ++i)
        q.push(at(t0 + std::chrono::milliseconds(i), i), i % 2 ? 1s : 2s);
    q.push(at(t0 + 1ms, 1000), 1s);  // out of order: the heap
    q.erase_if([](const Entry& e) { return e.index % 3 == 0; });
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
    Queue q;
    const TimePoint t0{};
    // Fill every lane, then empty them all.
    for (std::uint32_t i = 0; i < Queue::kMaxLanes; ++i)
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

TEST_CASE("deadlines of different timeouts come due in time order, not in the order set") {
    Queue q;
    const TimePoint t0{};
    CHECK(!q.earliest());
    q.push(at(t0 + 1s, 1), 1s);
    q.push(at(t0 + 110ms, 2), 100ms);
    q.push(at(t0 + 1020ms, 3), 1s);
    q.push(at(t0 + 130ms, 4), 100ms);
    q.push(at(t0 + 5040ms, 5), 5s);
    CHECK(q.size() == 5);
    CHECK(*q.earliest() == t0 + 110ms);
    CHECK(due_ids(q, t0 + 109ms).empty());
    CHECK(due_ids(q, t0 + 130ms) == std::vector<std::uint32_t>{2, 4});
    CHECK(*q.earliest() == t0 + 1s);
    CHECK(due_ids(q, t0 + 2s) == std::vector<std::uint32_t>{1, 3});
    CHECK(q.size() == 1);
    CHECK(due_ids(q, t0 + 10s) == std::vector<std::uint32_t>{5});
    CHECK(!q.earliest());
    CHECK(q.empty());
}

TEST_CASE("an entry keeps what it carries, and one set by a clock that went back comes first") {
    Queue q;
    const TimePoint t0 = TimePoint{} + 1h;
    q.push(Entry{t0 + 1s, 7, 41}, 1s);
    q.push(Entry{t0 + 500ms, 8, 42}, 1s);  // earlier than its lane's last: still in order
    CHECK(*q.earliest() == t0 + 500ms);
    auto a = q.pop_due(t0 + 1s);
    auto b = q.pop_due(t0 + 1s);
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->index == 8);
    CHECK(a->generation == 42);
    CHECK(a->when == t0 + 500ms);
    CHECK(b->index == 7);
    CHECK(b->generation == 41);
    CHECK(!q.pop_due(t0 + 1s));
}
