#include "core/fd_budget.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <vector>

using namespace fedprobe;

TEST_CASE("descriptors are taken up to the limit and given back") {
    FdBudget b;
    CHECK(b.limit() == FdBudget::kUnlimited);
    b.set_limit(2);
    CHECK(b.try_take());
    CHECK(b.try_take());
    CHECK_FALSE(b.try_take());
    CHECK(b.in_use() == 2);
    b.give();
    CHECK(b.try_take());
}

TEST_CASE("every waiter hears of each descriptor given back, until it leaves") {
    FdBudget b;
    b.set_limit(1);
    int a = 0, c = 0;
    auto ida = b.add_waiter([&] { ++a; });
    b.add_waiter([&] { ++c; });
    REQUIRE(b.try_take());
    b.give();
    CHECK(a == 1);
    CHECK(c == 1);
    b.remove_waiter(ida);
    REQUIRE(b.try_take());
    b.give();
    CHECK(a == 1);
    CHECK(c == 2);
}

TEST_CASE("with a defer function, waiters run later, once for a round of gives") {
    FdBudget b;
    std::vector<std::function<void()>> deferred;
    b.set_defer([&](std::function<void()> f) { deferred.push_back(std::move(f)); });
    b.set_limit(3);
    int woken = 0;
    std::uint64_t second = 0;
    b.add_waiter([&] {
        ++woken;
        // A waiter may take descriptors and change the waiters while it runs.
        CHECK(b.try_take());
        b.remove_waiter(second);
    });
    second = b.add_waiter([&] { FAIL("removed by the first waiter before its turn"); });
    for (int i = 0; i < 3; ++i)
        REQUIRE(b.try_take());
    b.give();
    b.give();
    CHECK(woken == 0);  // never inside give()
    REQUIRE(deferred.size() == 1);
    deferred[0]();
    CHECK(woken == 1);
    CHECK(b.in_use() == 2);
    b.give();  // the next round schedules again
    CHECK(deferred.size() == 2);
}

TEST_CASE("EMFILE shrinks the limit to what is in use, never grows it") {
    FdBudget b;
    b.set_limit(100);
    for (int i = 0; i < 7; ++i)
        REQUIRE(b.try_take());
    b.shrink_to_in_use();
    CHECK(b.limit() == 7);
    CHECK_FALSE(b.try_take());
    b.give();
    b.shrink_to_in_use();
    CHECK(b.limit() == 6);
}

TEST_CASE("the probes' share of RLIMIT_NOFILE keeps a reserve of an eighth, 16 to 256") {
    CHECK(probe_descriptor_budget(1024, 10) == 1024 - 10 - 128);
    CHECK(probe_descriptor_budget(64, 12) == 64 - 12 - 16);
    CHECK(probe_descriptor_budget(65536, 20) == 65536 - 20 - 256);
    CHECK(probe_descriptor_budget(32, 20) == 0);  // nothing left: every probe waits
}
