// STAMP packets: the byte layouts of RFC 8762's figures (44 and 112 bytes, both directions),
// timestamps in NTP and PTP format, the Error Estimate, the TLVs and their U/M/I flags, and
// authentication that fails on a wrong key or a changed byte.
#include "probes/stamp/stamp_packet.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>

#include "core/bytes.hpp"

using namespace fedprobe;

namespace {

const StampKey kKey = {'s', 'e', 'c', 'r', 'e', 't'};

std::uint64_t read64(const std::vector<std::uint8_t>& b, std::size_t at) {
    return std::uint64_t{be32(b.data() + at)} << 32 | be32(b.data() + at + 4);
}

}  // namespace

TEST_CASE("an unauthenticated test packet is 44 bytes with its fields where RFC 8762 puts them") {
    StampSenderPacket p;
    p.seq = 0x01020304;
    p.timestamp = 0x1122334455667788;
    p.error_estimate = 0x8001;
    p.ssid = 0xabcd;
    const auto b = encode(p, nullptr);
    REQUIRE(b.size() == 44);
    CHECK(be32(b.data()) == 0x01020304);
    CHECK(read64(b, 4) == 0x1122334455667788);
    CHECK(be16(b.data() + 12) == 0x8001);
    CHECK(be16(b.data() + 14) == 0xabcd);
    for (std::size_t i = 16; i < 44; ++i)
        CHECK(b[i] == 0);  // MBZ
    StampSenderPacket back;
    REQUIRE(decode(b, nullptr, back) == StampParse::ok);
    CHECK(back.seq == p.seq);
    CHECK(back.timestamp == p.timestamp);
    CHECK(back.ssid == p.ssid);
    CHECK(back.tlvs.empty());
}

TEST_CASE("an unauthenticated reflected packet is 44 bytes") {
    StampReflectorPacket p;
    p.seq = 7;
    p.timestamp = 0x0102030405060708;
    p.error_estimate = 0x0203;
    p.ssid = 9;
    p.receive_timestamp = 0x1112131415161718;
    p.sender_seq = 42;
    p.sender_timestamp = 0x2122232425262728;
    p.sender_error_estimate = 0x8004;
    p.sender_ttl = 61;
    const auto b = encode(p, nullptr);
    REQUIRE(b.size() == 44);
    CHECK(be32(b.data()) == 7);
    CHECK(read64(b, 4) == 0x0102030405060708);
    CHECK(be16(b.data() + 12) == 0x0203);
    CHECK(be16(b.data() + 14) == 9);
    CHECK(read64(b, 16) == 0x1112131415161718);
    CHECK(be32(b.data() + 24) == 42);
    CHECK(read64(b, 28) == 0x2122232425262728);
    CHECK(be16(b.data() + 36) == 0x8004);
    CHECK(b[40] == 61);
    StampReflectorPacket back;
    REQUIRE(decode(b, nullptr, back) == StampParse::ok);
    CHECK(back.sender_seq == 42);
    CHECK(back.sender_ttl == 61);
    CHECK(back.receive_timestamp == p.receive_timestamp);
}

TEST_CASE("authenticated packets are 112 bytes with an HMAC over the first 96") {
    StampSenderPacket p;
    p.seq = 5;
    p.timestamp = 0xdeadbeef00000001;
    p.ssid = 3;
    auto b = encode(p, &kKey);
    REQUIRE(b.size() == 112);
    CHECK(be32(b.data()) == 5);
    for (std::size_t i = 4; i < 16; ++i)
        CHECK(b[i] == 0);
    CHECK(read64(b, 16) == 0xdeadbeef00000001);
    CHECK(be16(b.data() + 26) == 3);
    const auto mac = stamp_hmac(kKey, std::span(b.data(), 96));
    CHECK(std::equal(mac.begin(), mac.end(), b.begin() + 96));

    StampSenderPacket back;
    CHECK(decode(b, &kKey, back) == StampParse::ok);
    const StampKey wrong = {'o', 't', 'h', 'e', 'r'};
    CHECK(decode(b, &wrong, back) == StampParse::auth_failed);
    b[20] ^= 1;
    CHECK(decode(b, &kKey, back) == StampParse::auth_failed);

    StampReflectorPacket r;
    r.sender_seq = 5;
    r.sender_ttl = 64;
    r.receive_timestamp = 1;
    const auto rb = encode(r, &kKey);
    REQUIRE(rb.size() == 112);
    CHECK(read64(rb, 32) == 1);
    CHECK(be32(rb.data() + 48) == 5);
    CHECK(rb[80] == 64);
    StampReflectorPacket rback;
    CHECK(decode(rb, &kKey, rback) == StampParse::ok);
    CHECK(decode(rb, &wrong, rback) == StampParse::auth_failed);
}

TEST_CASE("TLVs after an authenticated base carry an HMAC TLV over them") {
    StampSenderPacket p;
    p.seq = 11;
    p.tlvs.push_back(make_cos_tlv(StampCos{46, 0, 0, 0}));
    auto b = encode(p, &kKey);
    REQUIRE(b.size() == 112 + 8 + 20);
    CHECK(b[112 + 8 + 1] == static_cast<std::uint8_t>(StampTlvType::hmac));
    StampSenderPacket back;
    REQUIRE(decode(b, &kKey, back) == StampParse::ok);
    REQUIRE(back.tlvs.size() == 1);  // the HMAC TLV is consumed
    CHECK(read_cos_tlv(back.tlvs[0])->dscp1 == 46);
    b[112 + 4] ^= 0x80;  // change the CoS TLV: the base still verifies, the TLVs do not
    CHECK(decode(b, &kKey, back) == StampParse::auth_failed);
}

TEST_CASE("short packets and TLVs that run past the end do not parse") {
    std::vector<std::uint8_t> b(43, 0);
    StampSenderPacket p;
    CHECK(decode(b, nullptr, p) == StampParse::too_short);
    b.resize(44 + 3, 0);
    CHECK(decode(b, nullptr, p) == StampParse::bad_tlv);  // a TLV header needs 4 bytes
    b.assign(44, 0);
    b.insert(b.end(), {0, 1, 0, 10, 1, 2});  // claims 10 bytes, has 2
    CHECK(decode(b, nullptr, p) == StampParse::bad_tlv);
    StampSenderPacket auth;
    CHECK(decode(std::vector<std::uint8_t>(100, 0), &kKey, auth) == StampParse::too_short);
}

TEST_CASE("NTP and PTP timestamps round-trip to the nanosecond's neighbourhood") {
    const std::int64_t t = 1'764'000'000'123'456'789;  // late 2025
    const auto ntp = stamp_timestamp(t, false);
    CHECK((ntp >> 32) == 1'764'000'000ull + 2'208'988'800ull);
    CHECK(std::llabs(stamp_timestamp_ns(ntp, false) - t) <= 1);
    const auto ptp = stamp_timestamp(t, true);
    CHECK((ptp >> 32) == 1'764'000'000ull);
    CHECK((ptp & 0xffffffff) == 123'456'789ull);
    CHECK(stamp_timestamp_ns(ptp, true) == t);
    // NTP's fraction: half a second is 2^31.
    CHECK((stamp_timestamp(500'000'000, false) & 0xffffffff) == 0x80000000ull);
}

TEST_CASE("the Error Estimate packs S, Z, scale and multiplier as RFC 4656 lays them out") {
    ErrorEstimate e{true, true, 5, 200};
    CHECK(e.pack() == (0x8000 | 0x4000 | 5 << 8 | 200));
    const auto u = ErrorEstimate::unpack(0x8000 | 3 << 8 | 7);
    CHECK(u.synchronised);
    CHECK_FALSE(u.ptp);
    CHECK(u.scale == 3);
    CHECK(u.multiplier == 7);
    // At least the asked width, and not twice it.
    for (double s : {1e-6, 1e-3, 0.25, 1.0}) {
        auto a = ErrorEstimate::at_least(s, false, false);
        CHECK(a.seconds() >= s);
        CHECK(a.seconds() < 2 * s + 1e-9);
        CHECK(a.multiplier != 0);
    }
}

TEST_CASE("Class of Service: DSCP1, DSCP2, ECN and RP in the first 16 bits") {
    auto t = make_cos_tlv(StampCos{46, 10, 2, 1});
    REQUIRE(t.value.size() == 4);
    CHECK(be16(t.value.data()) == (46 << 10 | 10 << 4 | 2 << 2 | 1));
    auto c = read_cos_tlv(t);
    REQUIRE(c);
    CHECK(c->dscp1 == 46);
    CHECK(c->dscp2 == 10);
    CHECK(c->ecn == 2);
    CHECK(c->rp == 1);
}

TEST_CASE("Location: the reflector fills what it saw in place, without growing the TLV") {
    StampTlv t = make_location_request(AF_INET);
    const std::size_t size = t.value.size();
    StampLocation seen{862, 40000, IpAddress::parse("192.0.2.7"), IpAddress::parse("198.51.100.1")};
    REQUIRE(fill_location_tlv(t, seen));
    CHECK(t.value.size() == size);
    auto l = read_location_tlv(t);
    REQUIRE(l);
    CHECK(l->destination_port == 862);
    CHECK(l->source_port == 40000);
    CHECK(l->source == IpAddress::parse("192.0.2.7"));
    CHECK(l->destination == IpAddress::parse("198.51.100.1"));

    // An IPv6 request answered about an IPv4 packet: the sub-TLVs say M, nothing is made up.
    StampTlv v6 = make_location_request(AF_INET6);
    REQUIRE(fill_location_tlv(v6, seen));
    auto l6 = read_location_tlv(v6);
    REQUIRE(l6);
    CHECK_FALSE(l6->source);
    CHECK((v6.value[4] & kTlvMalformed) != 0);
}

TEST_CASE("TLVs round-trip with their flags") {
    std::vector<StampTlv> tlvs = {StampTlv{kTlvUnrecognised, 200, {1, 2, 3}},
                                  StampTlv{kTlvMalformed | kTlvIntegrity, 1, {}},
                                  make_padding_tlv(30)};
    std::vector<std::uint8_t> bytes;
    append_tlvs(tlvs, bytes);
    CHECK(bytes.size() == 4 + 3 + 4 + 4 + 30);
    CHECK(bytes[0] == 0x80);
    CHECK(bytes[7] == 0x60);
    std::vector<StampTlv> back;
    REQUIRE(parse_tlvs(bytes, back));
    CHECK(back == tlvs);
}

TEST_CASE("a key file: its bytes without the trailing newline; unreadable or empty is an error") {
    const std::string path = "/tmp/fedprobe-stamp-key-test";
    { std::ofstream(path) << "k3y\n"; }
    auto k = read_stamp_key(path);
    REQUIRE(k.ok());
    CHECK(*k == StampKey{'k', '3', 'y'});
    { std::ofstream(path) << "\n"; }
    CHECK_FALSE(read_stamp_key(path).ok());
    std::remove(path.c_str());
    auto missing = read_stamp_key(path);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.status().message().find("No such file") != std::string::npos);
}
