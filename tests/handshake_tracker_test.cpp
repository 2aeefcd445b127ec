#include "capture/handshake_tracker.hpp"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <pcap/dlt.h>

#include <span>
#include <vector>

#include "federation/config.hpp"

using namespace fedprobe;

namespace {

constexpr std::int64_t kMs = 1'000'000, kS = 1'000'000'000;

Config federation() {
    Config c;
    c.settings.site = "kent-nhs";
    c.networks = {
        Network{"kent-nhs", NetworkKind::nhs, "", {*Prefix::parse("10.31.0.0/16")}, {}},
        Network{"surrey-psn",
                NetworkKind::psn,
                "",
                {*Prefix::parse("198.51.100.128/25"), *Prefix::parse("2001:db8:148::/48")},
                {}}};
    c.services["https"] = Service{"https", Transport::tcp, 443, ""};
    c.services["mllp"] = Service{"mllp", Transport::tcp, 2575, ""};
    c.services["dns"] = Service{"dns", Transport::udp, 53, ""};
    return c;
}

FrameHeaders segment(const char* src, const char* dst, std::uint16_t sport, std::uint16_t dport,
                     std::uint8_t flags, std::uint32_t seq, std::uint32_t ack = 0) {
    FrameHeaders h;
    h.kind = FrameKind::tcp;
    h.src = *IpAddress::parse(src);
    h.dst = *IpAddress::parse(dst);
    h.sport = sport;
    h.dport = dport;
    h.tcp_flags = flags;
    h.seq = seq;
    h.ack = ack;
    return h;
}

const char* const kClient = "10.31.1.10";
const char* const kServer = "198.51.100.148";

FrameHeaders syn(std::uint16_t port = 40000, std::uint32_t isn = 100, std::uint16_t dport = 443) {
    return segment(kClient, kServer, port, dport, kTcpSyn, isn);
}
FrameHeaders synack(std::uint16_t port = 40000, std::uint32_t isn = 100,
                    std::uint16_t dport = 443) {
    return segment(kServer, kClient, dport, port, kTcpSyn | kTcpAck, 9000, isn + 1);
}

FrameHeaders icmp_error(const char* reporter, std::uint8_t type, std::uint8_t code,
                        std::uint16_t port, std::uint32_t isn, bool seq_known = true) {
    FrameHeaders h;
    h.kind = FrameKind::icmp_error;
    h.src = *IpAddress::parse(reporter);
    h.dst = *IpAddress::parse(kClient);
    h.icmp_type = type;
    h.icmp_code = code;
    h.quoted_src = *IpAddress::parse(kClient);
    h.quoted_dst = *IpAddress::parse(kServer);
    h.quoted_protocol = IPPROTO_TCP;
    h.sport = port;
    h.dport = 443;
    h.seq = isn;
    h.quoted_seq_known = seq_known;
    return h;
}

struct Fixture {
    Config config = federation();
    PassiveLabels labels = PassiveLabels::from_config(config);
    HandshakeTracker tracker{labels, HandshakeSettings{}};

    std::uint64_t count(PassiveOutcome o, const char* service = "https") {
        std::uint16_t svc = 0;
        while (labels.services()[svc] != service)
            ++svc;
        auto k = PassiveCounts::key(labels.network_of(*IpAddress::parse(kClient)),
                                    labels.network_of(*IpAddress::parse(kServer)), svc);
        auto it = tracker.counts().handshakes.find(k);
        return it == tracker.counts().handshakes.end() ? 0 : it->second[static_cast<int>(o)];
    }
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "a SYN answered by a SYN-ACK is ok, and its time is observed") {
    tracker.add(syn(), 0);
    tracker.add(synack(), 12 * kMs);
    CHECK(count(PassiveOutcome::ok) == 1);
    auto& times = tracker.counts().handshake_times;
    REQUIRE(times.size() == 1);
    CHECK(times.begin()->second.count == 1);
    CHECK(times.begin()->second.sum == doctest::Approx(0.012));
    CHECK(times.begin()->second.buckets[5] == 1);  // (0.01, 0.025]
}

TEST_CASE_FIXTURE(Fixture, "a RST acknowledging the SYN is refused; one for another ISN is not") {
    tracker.add(syn(40000, 100), 0);
    tracker.add(segment(kServer, kClient, 443, 40000, kTcpRst | kTcpAck, 0, 555), kMs);
    CHECK(count(PassiveOutcome::refused) == 0);
    tracker.add(segment(kServer, kClient, 443, 40000, kTcpRst | kTcpAck, 0, 101), 2 * kMs);
    CHECK(count(PassiveOutcome::refused) == 1);
    // Answered once: a second RST changes nothing.
    tracker.add(segment(kServer, kClient, 443, 40000, kTcpRst | kTcpAck, 0, 101), 3 * kMs);
    CHECK(count(PassiveOutcome::refused) == 1);
}

TEST_CASE_FIXTURE(Fixture, "silence for the timeout after the last SYN is filtered, once") {
    tracker.add(syn(), 0);
    tracker.add(syn(), 1 * kS);  // retransmitted: the wait starts again
    tracker.expire(3 * kS + 500 * kMs);
    CHECK(count(PassiveOutcome::filtered) == 0);
    tracker.expire(4 * kS);
    CHECK(count(PassiveOutcome::filtered) == 1);
    // The client keeps trying the same ISN: the same handshake, not counted again; and not
    // retried either, since it was never answered.
    tracker.add(syn(), 7 * kS);
    tracker.add(syn(), 15 * kS);
    tracker.expire(40 * kS);
    CHECK(count(PassiveOutcome::filtered) == 1);
    CHECK(count(PassiveOutcome::retried) == 0);
    CHECK(tracker.counts().syns == 4);
    // Long after the tombstone is gone, the table is empty again.
    tracker.expire(200 * kS);
    CHECK(tracker.tracked() == 0);
}

TEST_CASE_FIXTURE(Fixture, "a SYN sent again and then answered is ok and retried") {
    tracker.add(syn(), 0);
    tracker.add(syn(), kS);
    tracker.add(synack(), kS + 5 * kMs);
    CHECK(count(PassiveOutcome::ok) == 1);
    CHECK(count(PassiveOutcome::retried) == 1);
    // From the first SYN: what the user waited.
    CHECK(tracker.counts().handshake_times.begin()->second.sum == doctest::Approx(1.005));
}

TEST_CASE_FIXTURE(Fixture, "a new ISN on the same ports is a new handshake") {
    tracker.add(syn(40000, 100), 0);
    tracker.add(syn(40000, 900), kS);  // the first was given up by the client
    tracker.add(synack(40000, 900), kS + kMs);
    CHECK(count(PassiveOutcome::filtered) == 1);
    CHECK(count(PassiveOutcome::ok) == 1);
    CHECK(count(PassiveOutcome::retried) == 0);
}

TEST_CASE_FIXTURE(Fixture, "ICMP errors quoting the SYN: prohibited, unreachable, refused") {
    tracker.add(syn(1, 10), 0);
    tracker.add(syn(2, 20), 0);
    tracker.add(syn(3, 30), 0);
    tracker.add(syn(4, 40), 0);
    tracker.add(icmp_error("198.51.100.129", 3, 13, 1, 10), kMs);
    tracker.add(icmp_error("192.0.2.1", 3, 1, 2, 20), kMs);
    tracker.add(icmp_error("198.51.100.148", 3, 3, 3, 30), kMs);
    // A quote of another ISN is about another connection; fragmentation needed is no verdict.
    tracker.add(icmp_error("198.51.100.129", 3, 13, 4, 41), kMs);
    tracker.add(icmp_error("198.51.100.129", 3, 4, 4, 40), kMs);
    CHECK(count(PassiveOutcome::prohibited) == 1);
    CHECK(count(PassiveOutcome::unreachable) == 1);
    CHECK(count(PassiveOutcome::refused) == 1);
    auto& errors = tracker.counts().icmp_errors;
    auto kent = labels.network_of(*IpAddress::parse(kClient));
    auto surrey = labels.network_of(*IpAddress::parse(kServer));
    auto unknown = static_cast<std::uint16_t>(labels.networks().size() - 1);
    CHECK(errors[PassiveCounts::key(kent, surrey, surrey)][3] == 2);   // prohibited, both quotes
    CHECK(errors[PassiveCounts::key(kent, surrey, unknown)][4] == 1);  // unreachable
    // A quote without the sequence number still matches by ports.
    tracker.add(syn(5, 50), 2 * kMs);
    tracker.add(icmp_error("198.51.100.129", 3, 10, 5, 0, false), 3 * kMs);
    CHECK(count(PassiveOutcome::prohibited) == 2);
}

TEST_CASE_FIXTURE(Fixture, "IPv6 handshakes, and services by port") {
    tracker.add(segment("2001:db8:31::1", "2001:db8:148::2", 5000, 2575, kTcpSyn, 1), 0);
    tracker.add(segment("2001:db8:148::2", "2001:db8:31::1", 2575, 5000, kTcpSyn | kTcpAck, 7, 2),
                kMs);
    auto unknown = static_cast<std::uint16_t>(labels.networks().size() - 1);
    auto surrey = labels.network_of(*IpAddress::parse(kServer));
    CHECK(labels.network_of(*IpAddress::parse("2001:db8:31::1")) == unknown);  // no v6 for kent
    std::uint16_t mllp = 0;
    while (labels.services()[mllp] != "mllp")
        ++mllp;
    CHECK(tracker.counts().handshakes[PassiveCounts::key(unknown, surrey, mllp)][0] == 1);
    CHECK(labels.service_of(53) == labels.services().size() - 1);  // udp only: "other"
}

TEST_CASE("a full table gives up tombstones first, then refuses new handshakes and counts it") {
    Config config = federation();
    PassiveLabels labels = PassiveLabels::from_config(config);
    HandshakeSettings s;
    s.max_flows = 2;
    HandshakeTracker tracker(labels, s);
    tracker.add(syn(1, 1), 0);
    tracker.add(synack(1, 1), kMs);  // done: a tombstone
    tracker.add(syn(2, 2), 2 * kMs);
    tracker.add(syn(3, 3), 3 * kMs);  // takes the tombstone's place
    CHECK(tracker.counts().flow_table_full == 0);
    CHECK(tracker.counts().evicted == 1);
    tracker.add(syn(4, 4), 4 * kMs);  // both waiting: no room
    CHECK(tracker.counts().flow_table_full == 1);
    CHECK(tracker.tracked() == 2);
}

TEST_CASE_FIXTURE(Fixture,
                  "every frame advances the clock: a SYN silent past its timeout is filtered") {
    // Ethernet, IPv4, UDP 5353 -> 5353: a frame of no interest to the tracker.
    std::vector<std::uint8_t> udp = {
        0,    1,    2,    3,    4,  5, 6,    7, 8,  9,  10, 11, 0x08, 0x00,  // Ethernet
        0x45, 0,    0,    28,   0,  0, 0x40, 0, 64, 17, 0,  0,               // IPv4, UDP
        10,   1,    1,    1,    10, 1, 1,    2,                              // addresses
        0x14, 0xe9, 0x14, 0xe9, 0,  8, 0,    0};                             // UDP
    tracker.add(syn(1, 1), 0);
    tracker.add(syn(2, 2), 2 * kS);
    tracker.add_frame(DLT_EN10MB, udp, 4 * kS);  // the first SYN's 3 s are up; not the second's
    CHECK(count(PassiveOutcome::filtered) == 1);
    tracker.add_frame(DLT_EN10MB, std::span(udp).first(20), 6 * kS);  // cut short: still a clock
    CHECK(count(PassiveOutcome::filtered) == 2);
    CHECK(tracker.counts().truncated == 1);
    CHECK(tracker.finish() == 0);
}

TEST_CASE_FIXTURE(Fixture, "the end of a file: what is within its timeout is not counted") {
    tracker.add(syn(1, 1), 0);
    tracker.add(syn(2, 2), 5 * kS);  // expires the first
    CHECK(tracker.finish() == 1);
    CHECK(count(PassiveOutcome::filtered) == 1);
    CHECK(tracker.tracked() == 0);
}
