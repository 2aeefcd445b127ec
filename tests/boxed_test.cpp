// Boxed: copies share one value until one is written to; BoxPool makes equal values share.
#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include "core/boxed.hpp"

using namespace fedprobe;

TEST_CASE("a copy shares the value; a write gives the writer its own") {
    Boxed<std::string> a = std::string("kent");
    const Boxed<std::string> b = a;
    CHECK(a.shares_with(b));
    CHECK(*b == "kent");
    a.edit() += "-nhs";  // a write
    CHECK(!a.shares_with(b));
    CHECK(*a == "kent-nhs");
    CHECK(*b == "kent");  // the other holder never sees it
}

TEST_CASE("reading a box never copies it; an unshared box is written in place") {
    Boxed<std::string> a = std::string("x");
    Boxed<std::string> reader = a;
    CHECK(*reader == "x");  // a read through a non-const box
    CHECK(reader.shares_with(a));
    reader = Boxed<std::string>();
    const std::string* before = a.get();
    a.edit().push_back('y');
    CHECK(a.get() == before);
    CHECK(*a == "xy");
}

TEST_CASE("empty, moved-from and assigned boxes") {
    Boxed<int> empty;
    CHECK(!empty);
    CHECK(empty.get() == nullptr);
    Boxed<int> a = 5;
    Boxed<int> b = std::move(a);
    CHECK(!a);  // NOLINT(bugprone-use-after-move): moved-from is documented as empty
    CHECK(*b == 5);
    Boxed<int> c;
    c = b;
    CHECK(c.shares_with(b));
    c = 7;
    CHECK(*b == 5);
    CHECK(*c == 7);
    CHECK(Boxed<int>(3) == Boxed<int>(3));
    CHECK(!(Boxed<int>(3) == Boxed<int>()));
}

TEST_CASE("a pool makes equal values share one box, and keeps unequal ones apart") {
    BoxPool<std::string> pool;
    Boxed<std::string> a = pool.intern(std::string("packets=1"));
    Boxed<std::string> b = pool.intern(std::string("packets=1"));
    Boxed<std::string> c = pool.intern(std::string("packets=3"));
    CHECK(a.shares_with(b));
    CHECK(!a.shares_with(c));
    CHECK(*c == "packets=3");
    CHECK(!pool.intern(Boxed<std::string>()));  // empty stays empty
    // Written after sharing, a box leaves the others (and the pool) as they were.
    b.edit() = "packets=2";
    CHECK(*a == "packets=1");
    CHECK(pool.intern(std::string("packets=1")).shares_with(a));
}

TEST_CASE("copies held by other threads are read and dropped while this one writes its own") {
    Boxed<std::vector<int>> shared = std::vector<int>(1000, 7);
    std::vector<std::thread> threads;
    std::vector<long> sums(4, 0);
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([copy = shared, &sum = sums[static_cast<std::size_t>(t)]]() mutable {
            for (int i = 0; i < 1000; ++i) {
                Boxed<std::vector<int>> again = copy;
                for (int v : *again)
                    sum += v;
            }
        });
    shared.edit().assign(1000, 1);  // unshares: the threads keep reading sevens
    for (auto& t : threads)
        t.join();
    for (long s : sums)
        CHECK(s == 7L * 1000 * 1000);
    CHECK((*shared)[0] == 1);
}
