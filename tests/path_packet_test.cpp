#include <doctest/doctest.h>

#include <netinet/in.h>

#include <cstring>
#include <vector>

#include "core/bytes.hpp"
#include "probes/icmp/icmp_packet.hpp"
#include "probes/path/path_packet.hpp"

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

namespace {

// The sized probe a search sends: `size` bytes of IP packet.
std::vector<std::uint8_t> sized(const PathFlow& f, int ttl, std::uint16_t number,
                                std::size_t size) {
    std::vector<std::uint8_t> buf(size + 64);
    buf.resize(build_path_probe(buf, f, ttl, number, size));
    return buf;
}

// Appends an RFC 4884 extension with one MPLS object holding `labels` (4-byte entries); the
// ICMPv4 error's quote is padded to 128 bytes and its length field set, unless `legacy`.
void add_mpls(std::vector<std::uint8_t>& p, const std::vector<std::uint32_t>& entries, bool legacy,
              bool bad_checksum = false) {
    const std::size_t quote_at = 28;
    p.resize(quote_at + 128, 0);
    if (!legacy) p[25] = 128 / 4;
    std::vector<std::uint8_t> ext(4 + 4 + 4 * entries.size(), 0);
    ext[0] = 0x20;
    put16(&ext[4], static_cast<std::uint16_t>(4 + 4 * entries.size()));
    ext[6] = 1, ext[7] = 1;
    for (std::size_t i = 0; i < entries.size(); ++i)
        put32(&ext[8 + 4 * i], entries[i]);
    put16(&ext[2], static_cast<std::uint16_t>(internet_checksum(ext) ^ (bad_checksum ? 0x5a : 0)));
    p.insert(p.end(), ext.begin(), ext.end());
}

}  // namespace

TEST_CASE("sized probes: padded to the size, DF set, checksum and flow held, numbers intact") {
    for (const char* fam : {"4", "6"}) {
        const bool v4 = fam[0] == '4';
        for (PathMethod m : {PathMethod::udp, PathMethod::icmp, PathMethod::tcp}) {
            CAPTURE(to_string(m));
            CAPTURE(v4);
            PathFlow f = v4 ? flow(m, "10.31.1.10", "198.51.100.20", 40123, 2575)
                            : flow(m, "2001:db8::10", "2001:db8:1::20", 40123, 2575);
            f.dont_fragment = true;
            auto small = probe(f, 30, 1);
            CHECK(small.size() + (v4 ? 0 : 40) == path_probe_bytes(f));
            for (std::size_t size : {path_probe_bytes(f), std::size_t{1280}, std::size_t{1400},
                                     std::size_t{1500}, std::size_t{9000}}) {
                CAPTURE(size);
                const std::uint16_t number = ProbeNumber{5, 1, 9}.encode();
                auto p = sized(f, 30, number, size);
                REQUIRE(p.size() == (v4 ? size : size - 40));
                auto t = transport(f, p);
                CHECK(checksum_valid(f, t));
                CHECK(checksum_field(f, t) == f.checksum());
                if (v4) {
                    CHECK(be16(&p[2]) == size);
                    CHECK((be16(&p[6]) & 0x4000) != 0);
                }
                if (m == PathMethod::udp) CHECK(be16(&t[4]) == t.size());
                if (m == PathMethod::tcp) CHECK((t[12] >> 4) == 6);  // padding is data
                // The probe a router quotes, and the destination's answer, still name it.
                if (v4) {
                    auto reply = parse_path_reply4(icmp4_error("172.20.1.1", p, 3, 4, 28));
                    REQUIRE(reply.has_value());
                    CHECK(*reply->number == number);
                    CHECK(reply->quote->ip_length == size);
                }
            }
            // Impossible sizes build nothing.
            std::vector<std::uint8_t> buf(70000);
            CHECK(build_path_probe(buf, f, 1, 1, path_probe_bytes(f) - 1) == 0);
            CHECK(build_path_probe(buf, f, 1, 1, 65536) == 0);
            std::vector<std::uint8_t> tiny(100);
            CHECK(build_path_probe(tiny, f, 1, 1, 1500) == 0);
        }
    }
}

TEST_CASE("quotes: DSCP, ECN, length, DF, source and the TCP MSS as the router saw them") {
    PathFlow f = flow(PathMethod::tcp, "10.31.1.10", "198.51.100.20", 40500, 2575);
    f.tos = 46 << 2 | 1;
    f.dont_fragment = true;
    auto sent = probe(f, 5, ProbeNumber{5, 0, 3}.encode());
    // A full quote holds the options.
    auto reply = parse_path_reply4(icmp4_error("172.20.1.2", sent, 11, 0, sent.size()));
    REQUIRE(reply.has_value());
    REQUIRE(reply->quote.has_value());
    CHECK(reply->quote->bytes == sent.size());
    CHECK(reply->quote->tos == (46 << 2 | 1));
    CHECK(reply->quote->ip_length == sent.size());
    CHECK(reply->quote->dont_fragment);
    CHECK_FALSE(reply->quote->fragment);
    CHECK(reply->quote->source == f.source);
    REQUIRE(reply->quote->mss.has_value());
    CHECK(*reply->quote->mss == kPathProbeMss);
    // 28 bytes: the IP header's fields, no options.
    auto short_reply = parse_path_reply4(icmp4_error("172.20.1.2", sent, 11, 0, 28));
    REQUIRE(short_reply.has_value());
    CHECK(short_reply->quote->bytes == 28);
    CHECK(short_reply->quote->tos == (46 << 2 | 1));
    CHECK_FALSE(short_reply->quote->mss.has_value());
    // A clamp rewrote the option: the quote shows the new value.
    auto clamped = sent;
    put16(&clamped[20 + 22], 1200);
    auto c = parse_path_reply4(icmp4_error("172.20.1.2", clamped, 11, 0, clamped.size()));
    CHECK(*c->quote->mss == 1200);
    // Options cut off mid-way: no MSS, no overread.
    auto cut = parse_path_reply4(icmp4_error("172.20.1.2", sent, 11, 0, 20 + 21));
    REQUIRE(cut.has_value());
    CHECK_FALSE(cut->quote->mss.has_value());
    // IPv6: the traffic class and payload length of the quoted header.
    PathFlow f6 = flow(PathMethod::udp, "2001:db8::10", "2001:db8:1::20");
    auto sent6 = probe(f6, 4, ProbeNumber{4, 0, 3}.encode());
    auto err6 = icmp6_error(f6, sent6, 3, 0);
    put16(&err6[8], static_cast<std::uint16_t>(0x6000 | (0xb8 << 4)));  // traffic class EF
    auto r6 = parse_path_reply6(err6, IPPROTO_ICMPV6, *IpAddress::parse("2001:db8:ff::1"), 60);
    REQUIRE(r6.has_value());
    CHECK(r6->quote->tos == 0xb8);
    CHECK(r6->quote->ip_length == 40 + sent6.size());
    CHECK(r6->quote->source == f6.source);
}

TEST_CASE("RFC 4884 extensions: MPLS label stacks, legacy offset, and what is not one") {
    PathFlow f = flow(PathMethod::udp, "10.31.1.10", "198.51.100.20");
    auto sent = probe(f, 3, ProbeNumber{3, 0, 2}.encode());
    const std::uint32_t top = 16005u << 12 | 5u << 9 | 0u << 8 | 1u;
    const std::uint32_t bottom = 24001u << 12 | 0u << 9 | 1u << 8 | 1u;
    for (bool legacy : {false, true}) {
        CAPTURE(legacy);
        auto p = icmp4_error("192.0.2.1", sent, 11, 0, sent.size());
        add_mpls(p, {top, bottom}, legacy);
        auto r = parse_path_reply4(p);
        REQUIRE(r.has_value());
        CHECK(*r->number == ProbeNumber{3, 0, 2}.encode());
        REQUIRE(r->mpls.size() == 2);
        CHECK(r->mpls[0] == MplsLabel{16005, 5, false, 1});
        CHECK(r->mpls[1] == MplsLabel{24001, 0, true, 1});
        // The padded quote is not read as our packet's length.
        CHECK(r->quote->ip_length == sent.size());
    }
    // A checksum that does not hold, or another version: no labels, the answer still parses.
    auto bad = icmp4_error("192.0.2.1", sent, 11, 0, sent.size());
    add_mpls(bad, {top}, false, true);
    auto rb = parse_path_reply4(bad);
    REQUIRE(rb.has_value());
    CHECK(rb->mpls.empty());
    // A length shorter than 128 bytes is not RFC 4884's: no extension.
    auto shortlen = icmp4_error("192.0.2.1", sent, 11, 0, sent.size());
    add_mpls(shortlen, {top}, false);
    shortlen[25] = 8;
    auto rs = parse_path_reply4(shortlen);
    REQUIRE(rs.has_value());
    CHECK(rs->mpls.empty());
    // Object lengths that overrun the packet stop the walk, without reading past it.
    std::vector<std::uint8_t> body(128 + 4 + 4, 0);
    body[128] = 0x20;
    put16(&body[132], 200);
    body[134] = 1, body[135] = 1;
    CHECK(parse_icmp_extensions(body, 0).empty());
    // IPv6: the length field counts 64-bit words.
    PathFlow f6 = flow(PathMethod::udp, "2001:db8::10", "2001:db8:1::20");
    auto sent6 = probe(f6, 4, ProbeNumber{4, 0, 3}.encode());
    auto e6 = icmp6_error(f6, sent6, 3, 0);
    e6.resize(8 + 128, 0);
    e6[4] = 128 / 8;
    std::vector<std::uint8_t> ext(12, 0);
    ext[0] = 0x20;
    put16(&ext[4], 8);
    ext[6] = 1, ext[7] = 1;
    put32(&ext[8], top);
    put16(&ext[2], internet_checksum(ext));
    e6.insert(e6.end(), ext.begin(), ext.end());
    auto r6 = parse_path_reply6(e6, IPPROTO_ICMPV6, *IpAddress::parse("2001:db8:ff::1"), 60);
    REQUIRE(r6.has_value());
    REQUIRE(r6->mpls.size() == 1);
    CHECK(r6->mpls[0].label == 16005);
}

TEST_CASE("random and truncated ICMP errors: no crash, no read past the buffer (run under ASan)") {
    // Valid answers of every shape, then every truncation and many random byte flips of each.
    std::vector<std::vector<std::uint8_t>> seeds;
    for (PathMethod m : {PathMethod::udp, PathMethod::icmp, PathMethod::tcp}) {
        PathFlow f = flow(m, "10.31.1.10", "198.51.100.20", 40500, 443);
        auto sent = probe(f, 5, 0x1234);
        seeds.push_back(icmp4_error("172.20.1.2", sent, 11, 0, sent.size()));
        auto ext = icmp4_error("172.20.1.2", sent, 11, 0, sent.size());
        add_mpls(ext, {0x3e85b01u, 0x5dc1101u}, false);
        seeds.push_back(ext);
    }
    std::uint32_t state = 12345;
    auto rnd = [&state] { return state = state * 1103515245u + 12345u; };
    std::size_t parsed = 0;
    for (const auto& seed : seeds) {
        for (std::size_t n = 0; n <= seed.size(); ++n) {
            // A heap copy of exactly n bytes: ASan catches any read past it.
            std::vector<std::uint8_t> cut(seed.begin(), seed.begin() + static_cast<long>(n));
            parsed += parse_path_reply4(cut).has_value();
            auto as6 = cut.size() > 20 ? std::vector<std::uint8_t>(cut.begin() + 20, cut.end())
                                       : std::vector<std::uint8_t>();
            parsed +=
                parse_path_reply6(as6, IPPROTO_ICMPV6, *IpAddress::parse("::1"), 1).has_value();
        }
        for (int i = 0; i < 3000; ++i) {
            auto m = seed;
            for (int k = 0; k < 4; ++k)
                m[rnd() % m.size()] = static_cast<std::uint8_t>(rnd() >> 16);
            m.resize(rnd() % (m.size() + 1));
            parsed += parse_path_reply4(m).has_value();
            parsed += parse_icmp_extensions(m, (rnd() >> 8) % 300).size();
        }
    }
    CHECK(parsed > 0);  // the seeds themselves parse
}
