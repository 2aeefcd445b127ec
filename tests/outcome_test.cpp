#include <doctest/doctest.h>

#include <cerrno>

#include "probes/outcome.hpp"

using namespace fedprobe;

TEST_CASE("ICMPv4 destination unreachable codes") {
    CHECK(outcome_from_icmp4(3, 0) == Outcome::unreachable);  // net
    CHECK(outcome_from_icmp4(3, 1) == Outcome::unreachable);  // host
    CHECK(outcome_from_icmp4(3, 2) == Outcome::refused);      // protocol
    CHECK(outcome_from_icmp4(3, 3) == Outcome::refused);      // port
    CHECK(outcome_from_icmp4(3, 4) ==
          Outcome::error);  // fragmentation needed: no verdict on the flow
    CHECK(outcome_from_icmp4(3, 6) == Outcome::unreachable);  // net unknown
    CHECK(outcome_from_icmp4(3, 9) == Outcome::prohibited);   // net admin prohibited
    CHECK(outcome_from_icmp4(3, 10) == Outcome::prohibited);  // host admin prohibited
    CHECK(outcome_from_icmp4(3, 13) ==
          Outcome::prohibited);  // communication administratively prohibited
    CHECK(outcome_from_icmp4(11, 0) == Outcome::unreachable);  // TTL exceeded in transit
    CHECK(outcome_from_icmp4(5, 0) == Outcome::error);         // redirect: not a verdict
}

TEST_CASE("ICMPv6 destination unreachable codes") {
    CHECK(outcome_from_icmp6(1, 0) == Outcome::unreachable);  // no route
    CHECK(outcome_from_icmp6(1, 1) == Outcome::prohibited);   // administratively prohibited
    CHECK(outcome_from_icmp6(1, 3) == Outcome::unreachable);  // address unreachable
    CHECK(outcome_from_icmp6(1, 4) == Outcome::refused);      // port unreachable
    CHECK(outcome_from_icmp6(1, 5) == Outcome::prohibited);   // failed ingress/egress policy
    CHECK(outcome_from_icmp6(1, 6) == Outcome::prohibited);   // reject route
    CHECK(outcome_from_icmp6(3, 0) == Outcome::unreachable);  // hop limit exceeded
    CHECK(outcome_from_icmp6(2, 0) == Outcome::error);        // packet too big
}

TEST_CASE("local errors") {
    CHECK(outcome_from_errno(ECONNREFUSED) == Outcome::refused);
    CHECK(outcome_from_errno(ENETUNREACH) == Outcome::unreachable);
    CHECK(outcome_from_errno(EHOSTUNREACH) == Outcome::unreachable);
    CHECK(outcome_from_errno(ETIMEDOUT) == Outcome::filtered);
    CHECK(outcome_from_errno(EPERM) == Outcome::prohibited);
    CHECK(outcome_from_errno(EADDRNOTAVAIL) == Outcome::error);
    CHECK(outcome_from_errno(EMFILE) == Outcome::error);
}

TEST_CASE("outcome names are the exported label values") {
    CHECK(to_string(Outcome::ok) == "ok");
    CHECK(to_string(Outcome::prohibited) == "prohibited");
    CHECK(kAllOutcomes.size() == 9);
    CHECK(to_string(Outcome::mismatch) == "mismatch");
}
