#include <doctest/doctest.h>

#include <netinet/in.h>

#include "probes/path/path_middlebox.hpp"

using namespace fedprobe;

namespace {

SentFields sent4() {
    SentFields s;
    s.tos = 46 << 2;
    s.ip_length = 44;
    s.dont_fragment = true;
    s.source = *IpAddress::parse("10.31.1.10");
    s.mss = 1460;
    return s;
}

PathReply quoted(const SentFields& s, std::uint8_t type = 11) {
    PathReply r;
    r.type = type;
    r.quoted_ttl = 1;
    PathQuote q;
    q.bytes = 44;
    q.tos = s.tos;
    q.ip_length = s.ip_length;
    q.dont_fragment = s.dont_fragment;
    q.source = s.source;
    q.mss = s.mss;
    r.quote = q;
    return r;
}

}  // namespace

TEST_CASE("an untouched quote shows no change; no quote, nothing to say") {
    const SentFields s = sent4();
    CHECK(quote_changes(s, quoted(s)) == 0);
    PathReply none;
    CHECK(quote_changes(s, none) == 0);
}

TEST_CASE("each field a middlebox rewrites is named on its own") {
    const SentFields s = sent4();
    auto r = quoted(s);
    r.quote->tos = 0;  // bleached: DSCP 0, ECN as sent (0)
    CHECK(quote_changes(s, r) == bit(MiddleboxChange::dscp));
    r = quoted(s);
    r.quote->tos = 46 << 2 | 3;  // congestion experienced
    CHECK(quote_changes(s, r) == bit(MiddleboxChange::ecn));
    r = quoted(s);
    r.quote->mss = 1200;
    CHECK(quote_changes(s, r) == bit(MiddleboxChange::mss));
    r = quoted(s);
    r.quote->ip_length = 52;
    CHECK(quote_changes(s, r) == bit(MiddleboxChange::length));
    r = quoted(s);
    r.quote->dont_fragment = false;  // a device cleared DF
    CHECK(quote_changes(s, r) == bit(MiddleboxChange::length));
    r = quoted(s);
    r.quote->fragment = true;
    CHECK(quote_changes(s, r) == bit(MiddleboxChange::length));
    r = quoted(s);
    r.quote->source = *IpAddress::parse("172.20.1.2");
    CHECK(quote_changes(s, r) == bit(MiddleboxChange::nat));
    r = quoted(s);
    r.quoted_ttl = 0;
    CHECK(quote_changes(s, r) == bit(MiddleboxChange::ttl));
}

TEST_CASE("no false reports: 28-byte quotes, host-order lengths, TTL outside time-exceeded") {
    const SentFields s = sent4();
    auto r = quoted(s);
    r.quote->bytes = 28;
    r.quote->mss.reset();  // the options were not quoted
    CHECK(quote_changes(s, r) == 0);
    r = quoted(s);
    r.quote->ip_length = static_cast<std::uint16_t>(44 << 8);  // an old stack's byte order
    CHECK(quote_changes(s, r) == 0);
    r = quoted(s, 3);  // unreachable from the destination: its TTL is what was left
    r.quoted_ttl = 58;
    CHECK(quote_changes(s, r) == 0);
    SentFields udp = s;
    udp.mss.reset();
    r = quoted(udp);
    CHECK(quote_changes(udp, r) == 0);
    // IPv6 has no DF to clear.
    SentFields s6 = s;
    s6.source = *IpAddress::parse("2001:db8::10");
    s6.mss.reset();
    auto r6 = quoted(s6, 3);
    r6.quote->dont_fragment = false;
    CHECK(quote_changes(s6, r6) == 0);
    r6.quote->tos = 0;
    CHECK(quote_changes(s6, r6) == bit(MiddleboxChange::dscp));
}

TEST_CASE("a trace names each change at the first TTL whose quote shows it") {
    FlowTrace t;
    auto hop = [](int ttl, const char* addr, const char* net, std::uint8_t changes) {
        PathHop h;
        h.ttl = ttl;
        if (addr) h.address = *IpAddress::parse(addr);
        h.network = net;
        PathAttempt a;
        a.answered = addr != nullptr;
        a.from = h.address;
        a.changes = changes;
        h.attempts.push_back(a);
        return h;
    };
    t.hops.push_back(hop(1, "10.31.1.1", "kent-nhs", 0));
    t.hops.push_back(hop(2, nullptr, "", 0));
    t.hops.push_back(hop(3, "172.20.100.2", "interconnect", bit(MiddleboxChange::dscp)));
    t.hops.push_back(
        hop(4, "192.0.2.6", "surrey-psn", bit(MiddleboxChange::dscp) | bit(MiddleboxChange::mss)));
    auto seen = middlebox_changes(t);
    REQUIRE(seen.size() == 2);
    CHECK(seen[0] == MiddleboxSeen{MiddleboxChange::dscp, 3, *IpAddress::parse("172.20.100.2"),
                                   "interconnect"});
    CHECK(seen[1] ==
          MiddleboxSeen{MiddleboxChange::mss, 4, *IpAddress::parse("192.0.2.6"), "surrey-psn"});
    CHECK(to_string(MiddleboxChange::length) == "length");
}
