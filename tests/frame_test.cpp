#include "capture/frame.hpp"

#include <doctest/doctest.h>
#include <pcap/dlt.h>

#include <algorithm>
#include <vector>

using namespace fedprobe;

namespace {

using Bytes = std::vector<std::uint8_t>;

void put16(Bytes& b, std::uint16_t v) {
    b.push_back(static_cast<std::uint8_t>(v >> 8));
    b.push_back(static_cast<std::uint8_t>(v));
}
void put32(Bytes& b, std::uint32_t v) {
    put16(b, static_cast<std::uint16_t>(v >> 16));
    put16(b, static_cast<std::uint16_t>(v));
}
void put_address(Bytes& b, const char* text) {
    IpAddress a = *IpAddress::parse(text);
    b.insert(b.end(), a.bytes.begin(), a.bytes.begin() + (a.family == AF_INET ? 4 : 16));
}

Bytes tcp(std::uint16_t sport, std::uint16_t dport, std::uint32_t seq, std::uint32_t ack,
          std::uint8_t flags) {
    Bytes t;
    put16(t, sport);
    put16(t, dport);
    put32(t, seq);
    put32(t, ack);
    t.push_back(0x50);  // 20 bytes, no options
    t.push_back(flags);
    put16(t, 65535);
    put32(t, 0);  // checksum, urgent pointer
    return t;
}

Bytes ipv4(const char* src, const char* dst, std::uint8_t proto, const Bytes& payload,
           std::uint16_t frag = 0) {
    Bytes b{0x45, 0};
    put16(b, static_cast<std::uint16_t>(20 + payload.size()));
    put16(b, 1);
    put16(b, frag);
    b.push_back(64);
    b.push_back(proto);
    put16(b, 0);
    put_address(b, src);
    put_address(b, dst);
    b.insert(b.end(), payload.begin(), payload.end());
    return b;
}

Bytes ipv6(const char* src, const char* dst, std::uint8_t next, const Bytes& payload) {
    Bytes b{0x60, 0, 0, 0};
    put16(b, static_cast<std::uint16_t>(payload.size()));
    b.push_back(next);
    b.push_back(64);
    put_address(b, src);
    put_address(b, dst);
    b.insert(b.end(), payload.begin(), payload.end());
    return b;
}

Bytes ether(std::uint16_t type, const Bytes& payload, std::vector<std::uint16_t> tags = {}) {
    Bytes b(12, 0x02);
    for (std::size_t i = 0; i < tags.size(); ++i) {
        put16(b, i == 0 && tags.size() > 1 ? 0x88a8 : 0x8100);
        put16(b, tags[i]);
    }
    put16(b, type);
    b.insert(b.end(), payload.begin(), payload.end());
    return b;
}

Bytes icmp(std::uint8_t type, std::uint8_t code, const Bytes& quote) {
    // Sized first: g++ 12 at -O3 warns falsely (-Warray-bounds) on an insert after an 8-byte
    // initializer list.
    Bytes b(8 + quote.size(), 0);
    b[0] = type;
    b[1] = code;
    std::copy(quote.begin(), quote.end(), b.begin() + 8);
    return b;
}

}  // namespace

TEST_CASE("an IPv4 SYN behind Ethernet: addresses, ports, sequence number and flags") {
    auto f = ether(0x0800,
                   ipv4("10.31.1.10", "198.51.100.148", 6, tcp(40000, 443, 123456789, 0, kTcpSyn)));
    FrameHeaders h;
    REQUIRE(parse_frame(DLT_EN10MB, f, h) == FrameStatus::ok);
    CHECK(h.kind == FrameKind::tcp);
    CHECK(h.src == *IpAddress::parse("10.31.1.10"));
    CHECK(h.dst == *IpAddress::parse("198.51.100.148"));
    CHECK(h.sport == 40000);
    CHECK(h.dport == 443);
    CHECK(h.seq == 123456789);
    CHECK(h.tcp_flags == kTcpSyn);
}

TEST_CASE("Ethernet padding after a short packet is not read as TCP") {
    auto f = ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 6, tcp(1, 2, 3, 4, kTcpSyn | kTcpAck)));
    f.resize(f.size() + 6, 0xee);  // padded to 60 bytes on the wire
    FrameHeaders h;
    REQUIRE(parse_frame(DLT_EN10MB, f, h) == FrameStatus::ok);
    CHECK(h.ack == 4);
    // The IP total length says 40; one that claims less than its own header is malformed.
    f[14 + 2] = 0;
    f[14 + 3] = 10;
    CHECK(parse_frame(DLT_EN10MB, f, h) == FrameStatus::malformed);
}

TEST_CASE("VLAN tags, one or stacked (802.1ad), are stepped over") {
    auto pkt = ipv4("10.0.0.1", "10.0.0.2", 6, tcp(1000, 2575, 7, 0, kTcpSyn));
    FrameHeaders h;
    CHECK(parse_frame(DLT_EN10MB, ether(0x0800, pkt, {100}), h) == FrameStatus::ok);
    CHECK(h.dport == 2575);
    CHECK(parse_frame(DLT_EN10MB, ether(0x0800, pkt, {200, 100}), h) == FrameStatus::ok);
    CHECK(h.dport == 2575);
    auto cut = ether(0x0800, pkt, {200, 100});
    cut.resize(14 + 2);  // inside the second tag
    CHECK(parse_frame(DLT_EN10MB, cut, h) == FrameStatus::truncated);
}

TEST_CASE("IPv6 with extension headers before TCP") {
    Bytes hop{6, 0, 0, 0, 0, 0, 0, 0};  // hop-by-hop options, 8 bytes, then TCP
    auto t = tcp(50000, 443, 99, 0, kTcpSyn);
    hop.insert(hop.end(), t.begin(), t.end());
    auto f = ether(0x86dd, ipv6("2001:db8:31::10", "2001:db8:148::20", 0, hop));
    FrameHeaders h;
    REQUIRE(parse_frame(DLT_EN10MB, f, h) == FrameStatus::ok);
    CHECK(h.src == *IpAddress::parse("2001:db8:31::10"));
    CHECK(h.dport == 443);
    CHECK(h.seq == 99);
}

TEST_CASE("later fragments carry no TCP header: ignored, not misread") {
    auto f = ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 6, tcp(1, 2, 3, 4, kTcpSyn), 0x0010));
    FrameHeaders h;
    CHECK(parse_frame(DLT_EN10MB, f, h) == FrameStatus::ignored);
    Bytes frag{6, 0, 0x00, 0x08, 0, 0, 0, 1};  // fragment header, offset 1
    auto t = tcp(1, 2, 3, 4, kTcpSyn);
    frag.insert(frag.end(), t.begin(), t.end());
    CHECK(parse_frame(DLT_RAW, ipv6("2001:db8::1", "2001:db8::2", 44, frag), h) ==
          FrameStatus::ignored);
}

TEST_CASE("an ICMP error quoting a SYN: who sent it, what it says, the quoted ports and seq") {
    auto syn = ipv4("10.31.1.10", "198.51.100.148", 6, tcp(43000, 2575, 5555, 0, kTcpSyn));
    syn.resize(28);  // RFC 792: the IP header and 8 bytes
    auto f = ether(0x0800, ipv4("198.51.100.129", "10.31.1.10", 1, icmp(3, 13, syn)));
    FrameHeaders h;
    REQUIRE(parse_frame(DLT_EN10MB, f, h) == FrameStatus::ok);
    CHECK(h.kind == FrameKind::icmp_error);
    CHECK(h.src == *IpAddress::parse("198.51.100.129"));
    CHECK(h.icmp_type == 3);
    CHECK(h.icmp_code == 13);
    CHECK(h.quoted_src == *IpAddress::parse("10.31.1.10"));
    CHECK(h.quoted_dst == *IpAddress::parse("198.51.100.148"));
    CHECK(h.quoted_protocol == 6);
    CHECK(h.sport == 43000);
    CHECK(h.dport == 2575);
    CHECK(h.quoted_seq_known);
    CHECK(h.seq == 5555);
    // A quote with the ports only: still attributable, the sequence number unknown.
    syn.resize(24);
    f = ether(0x0800, ipv4("198.51.100.129", "10.31.1.10", 1, icmp(3, 13, syn)));
    REQUIRE(parse_frame(DLT_EN10MB, f, h) == FrameStatus::ok);
    CHECK_FALSE(h.quoted_seq_known);
    syn.resize(22);
    f = ether(0x0800, ipv4("198.51.100.129", "10.31.1.10", 1, icmp(3, 13, syn)));
    CHECK(parse_frame(DLT_EN10MB, f, h) == FrameStatus::truncated);
}

TEST_CASE("ICMPv6 unreachable quoting a SYN; echoes and other ICMP are ignored") {
    auto syn = ipv6("2001:db8:31::10", "2001:db8:148::20", 6, tcp(45001, 2575, 77, 0, kTcpSyn));
    auto f = ether(0x86dd, ipv6("2001:db8:148::1", "2001:db8:31::10", 58, icmp(1, 1, syn)));
    FrameHeaders h;
    REQUIRE(parse_frame(DLT_EN10MB, f, h) == FrameStatus::ok);
    CHECK(h.kind == FrameKind::icmp_error);
    CHECK(h.icmp_type == 1);
    CHECK(h.seq == 77);
    CHECK(h.tcp_flags == kTcpSyn);
    CHECK(parse_frame(DLT_EN10MB,
                      ether(0x86dd, ipv6("2001:db8::1", "2001:db8::2", 58, icmp(128, 0, {}))),
                      h) == FrameStatus::ignored);
    CHECK(parse_frame(DLT_EN10MB, ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 1, icmp(0, 0, {}))),
                      h) == FrameStatus::ignored);
    // An ICMPv4 error that quotes an IPv6 packet is nonsense.
    f = ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 1, icmp(3, 1, syn)));
    CHECK(parse_frame(DLT_EN10MB, f, h) == FrameStatus::malformed);
}

TEST_CASE("Linux cooked captures (v1 and v2), raw IP and BSD loopback") {
    auto pkt = ipv4("10.0.0.1", "10.0.0.2", 6, tcp(1, 80, 3, 0, kTcpSyn));
    FrameHeaders h;
    Bytes sll(14, 0);
    put16(sll, 0x0800);
    sll.insert(sll.end(), pkt.begin(), pkt.end());
    CHECK(parse_frame(DLT_LINUX_SLL, sll, h) == FrameStatus::ok);
    Bytes sll2;
    put16(sll2, 0x0800);
    sll2.resize(20, 0);
    sll2.insert(sll2.end(), pkt.begin(), pkt.end());
    CHECK(parse_frame(DLT_LINUX_SLL2, sll2, h) == FrameStatus::ok);
    CHECK(parse_frame(DLT_RAW, pkt, h) == FrameStatus::ok);
    Bytes null{2, 0, 0, 0};
    null.insert(null.end(), pkt.begin(), pkt.end());
    CHECK(parse_frame(DLT_NULL, null, h) == FrameStatus::ok);
    CHECK(h.dport == 80);
    CHECK(parse_frame(DLT_IEEE802_11, pkt, h) == FrameStatus::unsupported);
    CHECK_FALSE(link_type_supported(DLT_IEEE802_11));
}

TEST_CASE("every prefix of a frame is refused cleanly: truncated, never read past its end") {
    std::vector<Bytes> frames = {
        ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 6, tcp(1, 2, 3, 4, kTcpSyn))),
        ether(0x86dd, ipv6("2001:db8::1", "2001:db8::2", 6, tcp(1, 2, 3, 4, kTcpSyn)), {5}),
        ether(0x0800, ipv4("10.0.0.9", "10.0.0.1", 1,
                           icmp(3, 1, ipv4("10.0.0.1", "10.0.0.2", 6, tcp(1, 2, 3, 4, 2))))),
    };
    for (const auto& full : frames) {
        FrameHeaders h;
        REQUIRE(parse_frame(DLT_EN10MB, full, h) == FrameStatus::ok);
        for (std::size_t n = 0; n < full.size(); ++n) {
            // A copy of exactly n bytes, so that ASan sees any read beyond them.
            Bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
            auto s = parse_frame(DLT_EN10MB, cut, h);
            CAPTURE(n);
            CHECK((s == FrameStatus::truncated || s == FrameStatus::ok));
        }
    }
}
