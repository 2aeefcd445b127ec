#include "probes/idle/idle_search.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

using namespace fedprobe;

namespace {

// Runs the search against a path that cuts sessions idle longer than `cut` seconds, with
// `parallel` sessions at a time finishing in order of their idle time; returns the sessions
// it took to converge.
int converge(IdleSearch& s, double cut, int parallel = 3) {
    std::vector<double> flying;
    for (int tried = 0; tried < 200; ++tried) {
        while (static_cast<int>(flying.size()) < parallel) {
            auto t = s.next(flying);
            if (!t) break;
            flying.push_back(*t);
        }
        if (flying.empty()) return tried;
        auto shortest = std::min_element(flying.begin(), flying.end());
        double t = *shortest;
        flying.erase(shortest);
        s.record(t, t <= cut ? IdleAnswer::alive : IdleAnswer::silence, t);
    }
    FAIL("no convergence");
    return -1;
}

}  // namespace

TEST_CASE("the maximum first, then the minimum, then the middle of the widest gap") {
    IdleSearch s(2, 30);
    std::vector<double> flying;
    CHECK(s.next(flying) == 30);
    flying.push_back(30);
    CHECK(s.next(flying) == 2);
    flying.push_back(2);
    CHECK(s.next(flying) == 8);  // sqrt(2 * 30) = 7.7, in whole seconds
    flying.push_back(8);
    CHECK(s.next(flying) == 4);  // the widest gap in ratio: 2..8 (x4) over 8..30 (x3.75)
}

TEST_CASE("a 5 s conntrack timeout: bounds converge around it within a few sessions") {
    IdleSearch s(2, 30);
    int sessions = converge(s, 5);
    CHECK(s.lower() == 5);
    CHECK(s.upper() == 6);
    CHECK(sessions <= 10);
}

TEST_CASE("the MLLP case: a one-hour firewall against the RFC 5382 maximum") {
    IdleSearch s(30, 7440);
    converge(s, 3600);
    CHECK(s.lower() <= 3600);
    CHECK(s.upper() > 3600);
    CHECK(s.upper() <= s.lower() * 1.2);
}

TEST_CASE("nothing cut up to the maximum: the lower bound is the maximum, no upper") {
    IdleSearch s(2, 30);
    converge(s, 1e9);
    CHECK(s.lower() == 30);
    CHECK(s.upper() == IdleSearch::kInf);
}

TEST_CASE("cut even at the minimum: upper is the minimum, nothing survived") {
    IdleSearch s(2, 30);
    converge(s, 1);
    CHECK(s.upper() == 2);
    CHECK(s.lower() == 0);
}

TEST_CASE("a result against the bounds restarts them from it") {
    IdleSearch s(2, 30);
    converge(s, 5);
    REQUIRE(s.upper() == 6);
    CHECK(s.record(20, IdleAnswer::alive, 20));  // the firewall's timeout was raised
    CHECK(s.lower() == 20);
    CHECK(s.upper() == IdleSearch::kInf);
    converge(s, 25);
    CHECK(s.lower() <= 25);
    CHECK(s.upper() > 25);
    CHECK(s.upper() <= s.lower() * 1.2);
    CHECK(s.record(3, IdleAnswer::silence, 3));  // now cut below what survived
    CHECK(s.upper() == 3);
    CHECK(s.lower() == 0);
}

TEST_CASE("a reset before the keepalive cuts the session when it came") {
    IdleSearch s(2, 100);
    s.record(60, IdleAnswer::reset, 40);
    CHECK(s.upper() == 40);
}

TEST_CASE("the server's own idle close bounds the search, and is not a cut") {
    IdleSearch s(2, 100);
    CHECK_FALSE(s.record(100, IdleAnswer::server_closed, 20));
    CHECK(s.upper() == IdleSearch::kInf);
    CHECK(s.server_limit() == 20);
    std::vector<double> flying;
    CHECK(s.next(flying) == 18);  // below the server's limit, not 100
}

TEST_CASE("re-verification tries both bounds once, then converges again") {
    IdleSearch s(2, 30);
    converge(s, 5);
    std::vector<double> flying;
    REQUIRE_FALSE(s.next(flying));
    s.reverify();
    CHECK(s.next(flying) == 5);
    flying.push_back(5);
    CHECK(s.next(flying) == 6);
    flying.push_back(6);
    CHECK_FALSE(s.next(flying));
    s.record(5, IdleAnswer::alive, 5);
    s.record(6, IdleAnswer::silence, 6);
    flying.clear();
    CHECK(s.converged(flying));
}
