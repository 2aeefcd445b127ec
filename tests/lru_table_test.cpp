#include <doctest/doctest.h>

#include "probes/lru_table.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;

TEST_CASE("lru table: touch order, probation evicted first, expiry by time") {
    LruTable<int> t;
    const auto t0 = TimePoint{} + 1h;
    bool fresh = false;
    t.touch("a", t0, 3, fresh).value = 1;
    CHECK(fresh);
    t.touch("b", t0 + 1s, 3, fresh).value = 2;
    t.touch("c", t0 + 2s, 3, fresh).value = 3;
    CHECK(t.touch("a", t0 + 3s, 3, fresh).value == 1);  // a, touched twice, is protected
    CHECK_FALSE(fresh);
    t.touch("d", t0 + 4s, 3, fresh);  // full: b, the oldest on probation, goes
    CHECK(fresh);
    CHECK(t.size() == 3);
    CHECK(t.touch("a", t0 + 5s, 3, fresh).value == 1);
    CHECK(t.touch("b", t0 + 5s, 3, fresh).value == 0);  // evicted: a new one, and c goes
    CHECK(fresh);
    CHECK(t.touch("d", t0 + 6s, 3, fresh).value == 0);
    CHECK_FALSE(fresh);
    // A flood of new keys churns probation; a protected one stays.
    for (int i = 0; i < 1000; ++i)
        t.touch("x" + std::to_string(i), t0 + 7s, 3, fresh);
    CHECK(t.touch("a", t0 + 8s, 3, fresh).value == 1);
    CHECK_FALSE(fresh);
    CHECK(t.size() == 3);
    // Expiry: everything untouched since before 8 s goes, protected or not, a bounded number
    // per call.
    t.expire_before(t0 + 8s, 1);
    CHECK(t.size() == 2);
    t.expire_before(t0 + 8s);
    CHECK(t.size() == 1);
    t.expire_before(t0 + 1h);
    CHECK(t.size() == 0);
}
