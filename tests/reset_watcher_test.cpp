// What the reset watcher reads from a raw socket's packets, and the distance a TTL gives.
#include <doctest/doctest.h>

#include <vector>

#include "probes/app/reset_watcher.hpp"

using namespace fedprobe;

namespace {

std::vector<std::uint8_t> v4_segment(std::uint8_t ttl, std::uint8_t flags, std::size_t ihl = 5) {
    std::vector<std::uint8_t> p(ihl * 4 + 20, 0);
    p[0] = static_cast<std::uint8_t>(0x40 | ihl);
    p[8] = ttl;
    p[9] = 6;
    p[12] = 10, p[13] = 31, p[14] = 2, p[15] = 10;  // from 10.31.2.10
    std::uint8_t* tcp = &p[ihl * 4];
    tcp[0] = 0, tcp[1] = 104;      // from port 104
    tcp[2] = 0xc3, tcp[3] = 0x50;  // to 50000
    tcp[13] = flags;
    return p;
}

}  // namespace

TEST_CASE("SYN-ACKs and resets are read with their TTL, ports and sender") {
    auto s = parse_seen_v4(v4_segment(61, 0x12));
    REQUIRE(s);
    CHECK(s->syn_ack);
    CHECK_FALSE(s->reset);
    CHECK(s->ttl == 61);
    CHECK(s->remote.str() == "10.31.2.10");
    CHECK(s->remote_port == 104);
    CHECK(s->local_port == 50000);
    auto r = parse_seen_v4(v4_segment(62, 0x14, 6));  // RST+ACK, with IP options
    REQUIRE(r);
    CHECK(r->reset);
    CHECK(r->ttl == 62);
}

TEST_CASE("anything else is ignored") {
    CHECK_FALSE(parse_seen_v4(v4_segment(64, 0x10)));  // a bare ACK
    CHECK_FALSE(parse_seen_v4(v4_segment(64, 0x02)));  // a SYN
    auto short_packet = v4_segment(64, 0x14);
    short_packet.resize(30);
    CHECK_FALSE(parse_seen_v4(short_packet));
    auto bad_ihl = v4_segment(64, 0x14);
    bad_ihl[0] = 0x4f;  // 60 bytes of header in a 40-byte packet
    CHECK_FALSE(parse_seen_v4(bad_ihl));
    auto udp = v4_segment(64, 0x14);
    udp[9] = 17;
    CHECK_FALSE(parse_seen_v4(udp));
    CHECK_FALSE(parse_seen_v4({}));
}

TEST_CASE("hops from a TTL, whatever the sender's initial TTL") {
    CHECK(hops_from_ttl(64) == 0);
    CHECK(hops_from_ttl(61) == 3);
    CHECK(hops_from_ttl(125) == 3);  // Windows starts at 128
    CHECK(hops_from_ttl(250) == 5);  // network devices at 255
    CHECK(hops_from_ttl(30) == 2);
}
