#include <doctest/doctest.h>

#include "probes/dns/dns_match.hpp"

using namespace fedprobe;

namespace {
DnsQuery query(std::vector<std::string> answers = {}, std::string regex = "",
               std::string rcode = "NOERROR") {
    DnsQuery q;
    q.name = "epr.kent-psn.lab";
    q.answers = std::move(answers);
    q.answer_regex = std::move(regex);
    q.rcode = std::move(rcode);
    return q;
}
}  // namespace

TEST_CASE("the exact answer set, in any order, without duplicates mattering") {
    auto q = query({"198.51.100.20", "198.51.100.21"});
    CHECK(check_dns_answer(0, {"198.51.100.21", "198.51.100.20"}, q, q.answers).outcome ==
          Outcome::ok);
    auto wrong = check_dns_answer(0, {"198.51.100.99"}, q, q.answers);
    CHECK(wrong.outcome == Outcome::mismatch);
    CHECK(wrong.detail == "answers [198.51.100.99], expected [198.51.100.20, 198.51.100.21]");
    CHECK(check_dns_answer(0, {"198.51.100.20"}, q, q.answers).outcome ==
          Outcome::mismatch);  // one missing
}

TEST_CASE("split horizon: each site is held to its own expected set") {
    DnsQuery q = query({"10.211.2.10"});
    q.answers_from["surrey-nhs"] = {"10.10.2.10"};
    CHECK(q.answers_for("kent-nhs") == std::vector<std::string>{"10.211.2.10"});
    CHECK(q.answers_for("surrey-nhs") == std::vector<std::string>{"10.10.2.10"});
    CHECK(check_dns_answer(0, {"10.10.2.10"}, q, q.answers_for("surrey-nhs")).outcome ==
          Outcome::ok);
    CHECK(check_dns_answer(0, {"10.10.2.10"}, q, q.answers_for("kent-nhs")).outcome ==
          Outcome::mismatch);
}

TEST_CASE("rcodes are told apart, and an expected NXDOMAIN is ok") {
    auto q = query();
    auto nx = check_dns_answer(3, {}, q, {});
    CHECK(nx.outcome == Outcome::mismatch);
    CHECK(nx.detail == "rcode NXDOMAIN, expected NOERROR");
    CHECK(check_dns_answer(2, {}, q, {}).detail == "rcode SERVFAIL, expected NOERROR");
    CHECK(check_dns_answer(3, {}, query({}, "", "NXDOMAIN"), {}).outcome == Outcome::ok);
    CHECK(check_dns_answer(0, {}, q, {}).outcome == Outcome::ok);  // no expectation: any NOERROR
}

TEST_CASE("a pattern every answer must match, for CNAME chains and rotating pools") {
    auto q = query({}, "^198\\.51\\.100\\.[0-9]+$");
    CHECK(check_dns_answer(0, {"198.51.100.20", "198.51.100.7"}, q, {}).outcome == Outcome::ok);
    CHECK(check_dns_answer(0, {"198.51.100.20", "10.0.0.1"}, q, {}).outcome == Outcome::mismatch);
    CHECK(check_dns_answer(0, {}, q, {}).outcome == Outcome::mismatch);  // nothing to match
}

TEST_CASE("names of rcodes and types") {
    CHECK(dns_rcode_name(5) == "REFUSED");
    CHECK(dns_rcode_from_name("NXDOMAIN") == 3);
    CHECK(dns_type_from_name("AAAA") == 28);
    CHECK(dns_type_from_name("SRV") == 33);
}
