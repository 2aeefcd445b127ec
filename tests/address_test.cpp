#include <doctest/doctest.h>

#include "core/address.hpp"

using namespace fedprobe;

TEST_CASE("IPv4 and IPv6 literals parse and print back") {
    CHECK(IpAddress::parse("10.31.0.10")->str() == "10.31.0.10");
    CHECK(IpAddress::parse("2001:db8::1")->str() == "2001:db8::1");
    CHECK(IpAddress::parse("10.31.0.10")->family == AF_INET);
    CHECK_FALSE(IpAddress::parse("10.31.0"));
    CHECK_FALSE(IpAddress::parse("surrey-epr.nhs.uk"));
    CHECK_FALSE(IpAddress::parse(""));
    CHECK_FALSE(IpAddress::parse("10.0.0.256"));
}

TEST_CASE("prefixes clear host bits and match addresses of their family only") {
    auto p = Prefix::parse("10.31.5.7/16");
    REQUIRE(p);
    CHECK(p->str() == "10.31.0.0/16");
    CHECK(p->contains(*IpAddress::parse("10.31.255.1")));
    CHECK_FALSE(p->contains(*IpAddress::parse("10.32.0.1")));
    CHECK_FALSE(p->contains(*IpAddress::parse("::ffff:10.31.0.1")));
    CHECK(Prefix::parse("0.0.0.0/0")->contains(*IpAddress::parse("203.0.113.9")));
    CHECK(Prefix::parse("2001:db8::/32")->contains(*IpAddress::parse("2001:db8:ffff::1")));
    CHECK(Prefix::parse("192.0.2.1")->length == 32);
    CHECK_FALSE(Prefix::parse("10.0.0.0/33"));
    CHECK_FALSE(Prefix::parse("10.0.0.0/"));
    CHECK_FALSE(Prefix::parse("10.0.0.0/8x"));
}

TEST_CASE("prefix overlap is symmetric") {
    auto a = *Prefix::parse("10.0.0.0/8"), b = *Prefix::parse("10.31.0.0/16"),
         c = *Prefix::parse("11.0.0.0/8");
    CHECK(a.overlaps(b));
    CHECK(b.overlaps(a));
    CHECK_FALSE(a.overlaps(c));
}

TEST_CASE("endpoints need a port and brackets around IPv6") {
    CHECK(Endpoint::parse("127.0.0.1:9641")->port == 9641);
    CHECK(Endpoint::parse("[::1]:9641")->str() == "[::1]:9641");
    CHECK_FALSE(Endpoint::parse("::1:9641"));
    CHECK_FALSE(Endpoint::parse("127.0.0.1"));
    CHECK_FALSE(Endpoint::parse("127.0.0.1:70000"));
    CHECK_FALSE(Endpoint::parse("localhost:9641"));
}

TEST_CASE("sockaddr round trip") {
    sockaddr_storage ss;
    auto a = *IpAddress::parse("2001:db8::7");
    a.to_sockaddr(443, ss);
    CHECK(*IpAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&ss)) == a);
    CHECK(ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port) == 443);
}

TEST_CASE("an endpoint comes back from a socket address with its port; other families do not") {
    for (const char* text : {"192.0.2.7:862", "[2001:db8::7]:40000"}) {
        const Endpoint e = *Endpoint::parse(text);
        sockaddr_storage ss;
        e.address.to_sockaddr(e.port, ss);
        auto back = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss));
        REQUIRE(back);
        CHECK(*back == e);
    }
    sockaddr_storage unix_family{};
    unix_family.ss_family = AF_UNIX;
    CHECK_FALSE(Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&unix_family)));
    CHECK_FALSE(Endpoint::from_sockaddr(nullptr));
}

TEST_CASE("host_str: the form a URL or host:port needs") {
    CHECK(IpAddress::parse("198.51.100.20")->host_str() == "198.51.100.20");
    CHECK(IpAddress::parse("2001:db8::20")->host_str() == "[2001:db8::20]");
    CHECK((Endpoint{*IpAddress::parse("::1"), 53}.str()) == "[::1]:53");
}
