#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "probes/icmp/icmp_packet.hpp"

using namespace fedprobe;

namespace {

// An IPv4 header (20 bytes) in front of an ICMP message, as a raw socket returns it.
std::vector<std::uint8_t> ip4(const std::string& src, const std::string& dst,
                              std::vector<std::uint8_t> payload,
                              std::uint8_t proto = IPPROTO_ICMP) {
    std::vector<std::uint8_t> p(20);
    p[0] = 0x45;
    p[8] = 64;
    p[9] = proto;
    std::memcpy(&p[12], IpAddress::parse(src)->bytes.data(), 4);
    std::memcpy(&p[16], IpAddress::parse(dst)->bytes.data(), 4);
    p.insert(p.end(), payload.begin(), payload.end());
    return p;
}

std::vector<std::uint8_t> request(int family, std::uint16_t id, std::uint16_t seq,
                                  std::uint32_t key, std::uint32_t nonce,
                                  std::size_t payload = 56) {
    std::vector<std::uint8_t> buf(1500);
    buf.resize(build_echo_request(buf, family, id, seq, key, nonce, payload));
    return buf;
}

}  // namespace

TEST_CASE("internet checksum: RFC 1071 example and odd lengths") {
    std::uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    CHECK(internet_checksum(data) == static_cast<std::uint16_t>(~0xddf2 & 0xffff));
    std::uint8_t odd[] = {0x01};
    CHECK(internet_checksum(odd) == 0xfeff);
}

TEST_CASE("an IPv4 echo request checks out and carries marker, key and nonce") {
    auto pkt = request(AF_INET, 0x1234, 0x5678, 0xdeadbeef, 0x01020304);
    CHECK(pkt.size() == 64);
    CHECK(pkt[0] == 8);
    CHECK(internet_checksum(pkt) == 0);  // a correct checksum sums to zero
    auto m = parse_icmp4(pkt, false);
    REQUIRE(m);
    CHECK(m->kind == IcmpMessage::Kind::echo_request);
    CHECK(m->id == 0x1234);
    CHECK(m->seq == 0x5678);
    CHECK(m->has_token);
    CHECK(m->key == 0xdeadbeef);
    CHECK(m->nonce == 0x01020304);
}

TEST_CASE("payloads below the token size are raised to it") {
    CHECK(request(AF_INET, 1, 1, 1, 1, 0).size() == kIcmpHeaderBytes + kIcmpTokenBytes);
}

TEST_CASE("an IPv4 echo reply with IP header parses") {
    auto pkt = request(AF_INET, 7, 9, 42, 99);
    pkt[0] = 0;  // reply
    auto m = parse_icmp4(ip4("10.0.0.2", "10.0.0.1", pkt), true);
    REQUIRE(m);
    CHECK(m->kind == IcmpMessage::Kind::echo_reply);
    CHECK(m->key == 42);
    CHECK(m->nonce == 99);
}

TEST_CASE("an ICMP admin-prohibited error quoting our request names the request") {
    auto original = ip4("10.0.0.1", "203.0.113.7", request(AF_INET, 0xaaaa, 0xbbbb, 0xaaaabbbb, 5));
    std::vector<std::uint8_t> err = {3, 13, 0, 0, 0, 0, 0, 0};
    err.insert(err.end(), original.begin(), original.end());
    auto m = parse_icmp4(ip4("198.51.100.1", "10.0.0.1", err), true);
    REQUIRE(m);
    CHECK(m->kind == IcmpMessage::Kind::error);
    CHECK(m->type == 3);
    CHECK(m->code == 13);
    CHECK(m->quoted_destination->str() == "203.0.113.7");
    CHECK(m->key == 0xaaaabbbb);
    CHECK(m->nonce == 5);
}

TEST_CASE("an error quoting only 8 bytes of the request still gives id and seq") {
    auto original = ip4("10.0.0.1", "203.0.113.7", request(AF_INET, 0x0102, 0x0304, 0x01020304, 5));
    original.resize(28);  // RFC 792 minimum: IP header + 8 bytes
    std::vector<std::uint8_t> err = {11, 0, 0, 0, 0, 0, 0, 0};
    err.insert(err.end(), original.begin(), original.end());
    auto m = parse_icmp4(err, false);
    REQUIRE(m);
    CHECK(m->kind == IcmpMessage::Kind::error);
    CHECK_FALSE(m->has_token);
    CHECK(m->id == 0x0102);
    CHECK(m->seq == 0x0304);
}

TEST_CASE("errors about someone else's traffic are not taken for ours") {
    auto tcp = ip4("10.0.0.1", "203.0.113.7", std::vector<std::uint8_t>(20, 0), IPPROTO_TCP);
    std::vector<std::uint8_t> err = {3, 3, 0, 0, 0, 0, 0, 0};
    err.insert(err.end(), tcp.begin(), tcp.end());
    auto m = parse_icmp4(err, false);
    REQUIRE(m);
    CHECK(m->kind == IcmpMessage::Kind::other);
}

TEST_CASE("truncated and foreign packets are rejected") {
    CHECK_FALSE(parse_icmp4(std::vector<std::uint8_t>{0x45, 0}, true));
    auto pkt = request(AF_INET, 1, 1, 1, 1);
    pkt[0] = 0;
    auto udp = ip4("10.0.0.2", "10.0.0.1", pkt, IPPROTO_UDP);
    CHECK_FALSE(parse_icmp4(udp, true));
    std::vector<std::uint8_t> plain_ping = {0, 0, 0, 0, 0, 1, 0, 1, 'a', 'b', 'c'};
    auto m = parse_icmp4(plain_ping, false);
    REQUIRE(m);
    CHECK_FALSE(m->has_token);  // someone else's ping: no marker
}

TEST_CASE("ICMPv6 echo and a quoted request in destination unreachable") {
    auto req = request(AF_INET6, 3, 4, 77, 88);
    CHECK(req[0] == 128);
    auto reply = req;
    reply[0] = 129;
    auto m = parse_icmp6(reply);
    REQUIRE(m);
    CHECK(m->kind == IcmpMessage::Kind::echo_reply);
    CHECK(m->key == 77);

    std::vector<std::uint8_t> ip6(40);
    ip6[0] = 0x60;
    ip6[6] = IPPROTO_ICMPV6;
    std::memcpy(&ip6[24], IpAddress::parse("2001:db8::7")->bytes.data(), 16);
    std::vector<std::uint8_t> err = {1, 1, 0, 0, 0, 0, 0, 0};
    err.insert(err.end(), ip6.begin(), ip6.end());
    err.insert(err.end(), req.begin(), req.end());
    auto e = parse_icmp6(err);
    REQUIRE(e);
    CHECK(e->kind == IcmpMessage::Kind::error);
    CHECK(e->code == 1);
    CHECK(e->quoted_destination->str() == "2001:db8::7");
    CHECK(e->nonce == 88);
}

TEST_CASE("the quoted request from a ping socket's error queue") {
    auto req = request(AF_INET, 0, 9, 1234, 5678);
    auto m = parse_quoted_request(req, AF_INET);
    REQUIRE(m);
    CHECK(m->key == 1234);
    CHECK_FALSE(parse_quoted_request(req, AF_INET6));
}
