#include <doctest/doctest.h>

#include <netinet/in.h>

#include <cstring>
#include <vector>

#include "core/bytes.hpp"
#include "probes/icmp_packet.hpp"
#include "probes/path_packet.hpp"

using namespace fedprobe;

namespace {

PathFlow flow(PathMethod m, const char* src, const char* dst, std::uint16_t ident = 40001,
              std::uint16_t port = 33434) {
    PathFlow f;
    f.method = m;
    f.source = *IpAddress::parse(src);
    f.destination = *IpAddress::parse(dst);
    f.ident = ident;
    f.port = m == PathMethod::icmp ? 0 : port;
    return f;
}

std::vector<std::uint8_t> probe(const PathFlow& f, int ttl, std::uint16_t number) {
    std::vector<std::uint8_t> buf(kPathMaxPacket);
    buf.resize(build_path_probe(buf, f, ttl, number));
    return buf;
}

// The transport part of a probe, whatever the family.
std::span<const std::uint8_t> transport(const PathFlow& f, const std::vector<std::uint8_t>& p) {
    return std::span<const std::uint8_t>(p).subspan(f.destination.family == AF_INET ? 20 : 0);
}

// Verifies a transport checksum the way a receiver does: over the pseudo-header and segment,
// the one's-complement sum comes out as 0xffff.
bool checksum_valid(const PathFlow& f, std::span<const std::uint8_t> t) {
    std::vector<std::uint8_t> all;
    const int protocol = f.protocol();
    if (!(f.method == PathMethod::icmp && f.destination.family == AF_INET)) {
        const std::size_t n = f.destination.family == AF_INET ? 4 : 16;
        all.insert(all.end(), f.source.bytes.begin(), f.source.bytes.begin() + n);
        all.insert(all.end(), f.destination.bytes.begin(), f.destination.bytes.begin() + n);
        all.push_back(0);
        all.push_back(0);
        all.push_back(static_cast<std::uint8_t>(t.size() >> 8));
        all.push_back(static_cast<std::uint8_t>(t.size()));
        all.push_back(0);
        all.push_back(0);
        all.push_back(0);
        all.push_back(static_cast<std::uint8_t>(protocol));
    }
    all.insert(all.end(), t.begin(), t.end());
    return internet_checksum(all) == 0;
}

std::uint16_t checksum_field(const PathFlow& f, std::span<const std::uint8_t> t) {
    switch (f.method) {
        case PathMethod::udp:
            return be16(&t[6]);
        case PathMethod::icmp:
            return be16(&t[2]);
        case PathMethod::tcp:
            return be16(&t[16]);
    }
    return 0;
}

// An ICMP error as a router sends it: its own IP header, ICMP header, then `quote_bytes` of
// the probe (IP header included).
std::vector<std::uint8_t> icmp4_error(const char* router, const std::vector<std::uint8_t>& sent,
                                      std::uint8_t type, std::uint8_t code, std::size_t quote_bytes,
                                      std::uint8_t quoted_ttl = 1) {
    std::vector<std::uint8_t> p(28);
    p[0] = 0x45;
    p[8] = 250;
    p[9] = IPPROTO_ICMP;
    std::memcpy(&p[12], IpAddress::parse(router)->bytes.data(), 4);
    p[20] = type;
    p[21] = code;
    std::vector<std::uint8_t> quote(
        sent.begin(), sent.begin() + static_cast<long>(std::min(quote_bytes, sent.size())));
    quote[8] = quoted_ttl;
    p.insert(p.end(), quote.begin(), quote.end());
    return p;
}

std::vector<std::uint8_t> icmp6_error(const PathFlow& f, const std::vector<std::uint8_t>& sent,
                                      std::uint8_t type, std::uint8_t code) {
    std::vector<std::uint8_t> p(8 + 40);
    p[0] = type;
    p[1] = code;
    std::uint8_t* ip = &p[8];
    ip[0] = 0x60;
    put16(ip + 4, static_cast<std::uint16_t>(sent.size()));
    ip[6] = static_cast<std::uint8_t>(f.protocol());
    ip[7] = 1;
    std::memcpy(ip + 8, f.source.bytes.data(), 16);
    std::memcpy(ip + 24, f.destination.bytes.data(), 16);
    p.insert(p.end(), sent.begin(), sent.end());
    return p;
}

}  // namespace

TEST_CASE("probe numbers carry TTL, attempt and round, never 0 for a live round") {
    for (int ttl : {1, 2, 30, 64})
        for (int attempt : {0, 1, 3})
            for (int gen : {1, 77, 255}) {
                ProbeNumber n{ttl, attempt, static_cast<std::uint8_t>(gen)};
                ProbeNumber back = ProbeNumber::decode(n.encode());
                CHECK(back.ttl == ttl);
                CHECK(back.attempt == attempt);
                CHECK(back.generation == gen);
                CHECK(n.encode() != 0);
            }
}

TEST_CASE("every method: flow identifier and checksum constant across TTLs, checksum valid") {
    for (const char* pair : {"4", "6"}) {
        const bool v4 = pair[0] == '4';
        for (PathMethod m : {PathMethod::udp, PathMethod::icmp, PathMethod::tcp}) {
            PathFlow f = v4 ? flow(m, "10.31.1.10", "198.51.100.20")
                            : flow(m, "2001:db8::10", "2001:db8:1::20");
            CAPTURE(to_string(m));
            CAPTURE(v4);
            auto first = probe(f, 1, ProbeNumber{1, 0, 1}.encode());
            REQUIRE(!first.empty());
            auto t0 = transport(f, first);
            for (int ttl = 1; ttl <= 30; ++ttl)
                for (int attempt = 0; attempt < 2; ++attempt) {
                    const std::uint16_t number = ProbeNumber{ttl, attempt, 9}.encode();
                    auto p = probe(f, ttl, number);
                    REQUIRE(p.size() == first.size());
                    auto t = transport(f, p);
                    CHECK(checksum_valid(f, t));
                    CHECK(checksum_field(f, t) == checksum_field(f, t0));
                    CHECK(checksum_field(f, t) == f.checksum());
                    // What routers hash: ports, or the ICMP type/code/checksum/identifier.
                    if (m == PathMethod::icmp)
                        CHECK(std::memcmp(t.data(), t0.data(), 6) == 0);
                    else
                        CHECK(std::memcmp(t.data(), t0.data(), 4) == 0);
                    if (v4) {
                        CHECK(p[8] == ttl);
                        CHECK(p[9] == f.protocol());
                        CHECK(be16(&p[4]) == number);  // the IP ID names the probe
                        CHECK(std::memcmp(&p[12], f.source.bytes.data(), 4) == 0);
                        CHECK(std::memcmp(&p[16], f.destination.bytes.data(), 4) == 0);
                    }
                }
        }
    }
}

TEST_CASE("a 28-byte IPv4 quote still names flow and probe, for every method") {
    for (PathMethod m : {PathMethod::udp, PathMethod::icmp, PathMethod::tcp}) {
        CAPTURE(to_string(m));
        PathFlow f = flow(m, "10.31.1.10", "198.51.100.20", 40123, 443);
        const std::uint16_t number = ProbeNumber{7, 1, 42}.encode();
        auto sent = probe(f, 7, number);
        for (std::size_t quote : {std::size_t{28}, sent.size()}) {
            auto reply = parse_path_reply4(icmp4_error("172.20.100.2", sent, 11, 0, quote));
            REQUIRE(reply.has_value());
            CHECK(reply->kind == PathReply::Kind::icmp_error);
            CHECK(reply->from == *IpAddress::parse("172.20.100.2"));
            CHECK(reply->destination == f.destination);
            CHECK(reply->protocol == f.protocol());
            CHECK(reply->ident == f.ident);
            CHECK(reply->port == f.port);
            REQUIRE(reply->number.has_value());
            CHECK(*reply->number == number);
            CHECK(reply->type == 11);
            CHECK(reply->quoted_ttl == 1);
            CHECK(reply->reply_ttl == 250);
        }
    }
    // Too short to hold 8 bytes of transport header: not ours to judge.
    PathFlow f = flow(PathMethod::udp, "10.31.1.10", "198.51.100.20");
    auto sent = probe(f, 3, 77);
    CHECK_FALSE(parse_path_reply4(icmp4_error("172.20.1.1", sent, 11, 0, 24)).has_value());
    // Fragmentation needed carries the next-hop MTU.
    auto ptb = icmp4_error("172.20.3.2", sent, 3, 4, 28);
    put16(&ptb[26], 1400);
    auto r = parse_path_reply4(ptb);
    REQUIRE(r.has_value());
    CHECK(r->next_hop_mtu == 1400);
}

TEST_CASE("IPv6 quotes: the number travels in the payload (udp) or the header (icmp, tcp)") {
    for (PathMethod m : {PathMethod::udp, PathMethod::icmp, PathMethod::tcp}) {
        CAPTURE(to_string(m));
        PathFlow f = flow(m, "2001:db8::10", "2001:db8:1::20", 40123, 53);
        const std::uint16_t number = ProbeNumber{12, 0, 3}.encode();
        auto sent = probe(f, 12, number);
        auto router = *IpAddress::parse("2001:db8:ff::1");
        auto reply = parse_path_reply6(icmp6_error(f, sent, 3, 0), IPPROTO_ICMPV6, router, 61);
        REQUIRE(reply.has_value());
        CHECK(reply->destination == f.destination);
        CHECK(reply->ident == f.ident);
        CHECK(reply->port == f.port);
        REQUIRE(reply->number.has_value());
        CHECK(*reply->number == number);
        CHECK(reply->quoted_ttl == 1);
        CHECK(reply->reply_ttl == 61);
    }
}

TEST_CASE("answers from the destination: echo reply, SYN-ACK, reset, UDP echo") {
    PathFlow icmp = flow(PathMethod::icmp, "10.31.1.10", "198.51.100.20", 555);
    auto sent = probe(icmp, 6, ProbeNumber{6, 0, 5}.encode());
    // The echo reply: the request with type 0, from the destination.
    std::vector<std::uint8_t> reply(sent);
    std::memcpy(&reply[12], icmp.destination.bytes.data(), 4);
    std::memcpy(&reply[16], icmp.source.bytes.data(), 4);
    reply[20] = 0;
    auto r = parse_path_reply4(reply);
    REQUIRE(r.has_value());
    CHECK(r->kind == PathReply::Kind::echo_reply);
    CHECK(r->ident == 555);
    CHECK(ProbeNumber::decode(*r->number).ttl == 6);

    PathFlow tcp = flow(PathMethod::tcp, "10.31.1.10", "198.51.100.20", 40500, 443);
    auto syn = probe(tcp, 6, ProbeNumber{6, 1, 5}.encode());
    for (std::uint8_t flags : {std::uint8_t{0x12}, std::uint8_t{0x14}}) {  // SYN-ACK, RST-ACK
        std::vector<std::uint8_t> seg(40, 0);
        seg[0] = 0x45;
        seg[8] = 60;
        seg[9] = IPPROTO_TCP;
        std::memcpy(&seg[12], tcp.destination.bytes.data(), 4);
        std::memcpy(&seg[16], tcp.source.bytes.data(), 4);
        put16(&seg[20], 443);
        put16(&seg[22], 40500);
        put32(&seg[28], be32(&syn[24]) + 1);  // ack = our seq + 1
        seg[32] = 5 << 4;
        seg[33] = flags;
        auto a = parse_path_reply4(seg);
        REQUIRE(a.has_value());
        CHECK(a->kind == PathReply::Kind::tcp);
        CHECK(a->ident == 40500);
        CHECK(a->port == 443);
        CHECK(ProbeNumber::decode(*a->number).ttl == 6);
        CHECK(ProbeNumber::decode(*a->number).attempt == 1);
    }
    // The reset that answers a SYN-ACK: our ports, the acknowledged sequence, a valid checksum.
    std::vector<std::uint8_t> rst(kPathMaxPacket);
    rst.resize(build_path_reset(rst, tcp, 123456));
    REQUIRE(rst.size() == 40);
    CHECK(rst[33] == 0x04);
    CHECK(be32(&rst[24]) == 123456);
    CHECK(checksum_valid(tcp, std::span<const std::uint8_t>(rst).subspan(20)));
}

TEST_CASE("garbage never parses as an answer and never reads out of bounds") {
    std::vector<std::uint8_t> junk;
    for (std::size_t n = 0; n < 80; ++n) {
        junk.push_back(static_cast<std::uint8_t>(n * 37 + 11));
        (void)parse_path_reply4(junk);
        (void)parse_path_reply6(junk, IPPROTO_ICMPV6, *IpAddress::parse("::1"), 64);
        (void)parse_path_reply6(junk, IPPROTO_TCP, *IpAddress::parse("::1"), 64);
    }
    std::vector<std::uint8_t> not_ip(40, 0x60);
    CHECK_FALSE(parse_path_reply4(not_ip).has_value());
}
