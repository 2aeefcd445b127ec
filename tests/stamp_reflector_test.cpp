// The reflector's decisions on single datagrams (no sockets): who is answered, the stateful
// and stateless counts, the TLVs filled in, no reply larger than the request, and the
// results counted for each refusal; and, on a loopback socket, the kernel's drops counted.
#include "probes/stamp/stamp_reflector.hpp"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/event_loop.hpp"
#include "probes/stamp/stamp_steering.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;

namespace {

StampReflectorSettings settings(bool stateful = true) {
    StampReflectorSettings s;
    s.allow = {*Prefix::parse("10.1.0.0/16")};
    s.stateful = stateful;
    s.rate_limit = 1000;
    return s;
}

StampArrival arrival(const std::vector<std::uint8_t>& bytes, const char* from = "10.1.2.3",
                     std::uint16_t port = 40000) {
    return StampArrival{bytes, *IpAddress::parse(from), port, *IpAddress::parse("10.2.0.10"),
                        862,   0xb8 /* DSCP 46 */,      62,   1'700'000'000'000'000'000};
}

std::vector<std::uint8_t> test_packet(std::uint32_t seq, std::vector<StampTlv> tlvs = {},
                                      const StampKey* key = nullptr, std::uint16_t ssid = 1) {
    StampSenderPacket p;
    p.seq = seq;
    p.ssid = ssid;
    p.timestamp = stamp_timestamp(1'700'000'000'000'000'000 - 1'000'000, false);
    p.tlvs = std::move(tlvs);
    return encode(p, key);
}

StampReflectorPacket parse(const StampReply& r, const StampKey* key = nullptr) {
    StampReflectorPacket p;
    REQUIRE(decode(r.bytes, key, p) == StampParse::ok);
    return p;
}

}  // namespace

TEST_CASE("stateful: each session gets its own count; the sender's fields are echoed") {
    EventLoop loop;
    StampReflector refl(loop, settings());
    const auto now = Clock::now();
    for (std::uint32_t s : {5u, 6u, 9u}) {  // 7 and 8 never arrived
        auto reply = refl.reflect(arrival(test_packet(s)), now);
        REQUIRE(reply);
        CHECK(reply->bytes.size() == 44);
        auto p = parse(*reply);
        CHECK(p.sender_seq == s);
        CHECK(p.sender_ttl == 62);
        CHECK(p.ssid == 1);
        CHECK(stamp_timestamp_ns(p.receive_timestamp, false) == 1'700'000'000'000'000'000);
    }
    // The third reply carries count 2 while the sender is at 9: four lost forward.
    auto again = parse(*refl.reflect(arrival(test_packet(10)), now));
    CHECK(again.seq == 3);
    // Another source port is another session, counting from 0.
    auto other = parse(*refl.reflect(arrival(test_packet(10), "10.1.2.3", 40001), now));
    CHECK(other.seq == 0);
    CHECK(refl.counts().get(StampReflected::reflected) == 5);
}

TEST_CASE("stateless: the reply's sequence number is the sender's") {
    EventLoop loop;
    StampReflector refl(loop, settings(false));
    auto p = parse(*refl.reflect(arrival(test_packet(77)), Clock::now()));
    CHECK(p.seq == 77);
    CHECK(refl.sessions() == 0);
}

TEST_CASE("a source outside allow gets nothing, counted as refused_source") {
    EventLoop loop;
    StampReflector refl(loop, settings());
    CHECK_FALSE(refl.reflect(arrival(test_packet(0), "192.0.2.1"), Clock::now()));
    CHECK(refl.counts().get(StampReflected::refused_source) == 1);
    CHECK(refl.counts().get(StampReflected::reflected) == 0);
}

TEST_CASE("malformed packets are ignored and counted") {
    EventLoop loop;
    StampReflector refl(loop, settings());
    CHECK_FALSE(refl.reflect(arrival(std::vector<std::uint8_t>(20, 0)), Clock::now()));
    auto bad = test_packet(0);
    bad.insert(bad.end(), {0, 4, 0, 99});  // a TLV that claims 99 bytes
    CHECK_FALSE(refl.reflect(arrival(bad), Clock::now()));
    CHECK(refl.counts().get(StampReflected::malformed) == 2);
}

TEST_CASE("authenticated: the right key is answered in kind, a wrong one or none gets silence") {
    EventLoop loop;
    auto s = settings();
    s.key = StampKey{'k', 'e', 'y'};
    StampReflector refl(loop, s);
    auto reply = refl.reflect(arrival(test_packet(1, {}, &*s.key)), Clock::now());
    REQUIRE(reply);
    CHECK(reply->bytes.size() == 112);
    parse(*reply, &*s.key);
    const StampKey wrong = {'n', 'o', 'p', 'e'};
    CHECK_FALSE(refl.reflect(arrival(test_packet(2, {}, &wrong)), Clock::now()));
    CHECK_FALSE(refl.reflect(arrival(test_packet(3)), Clock::now()));  // unauthenticated
    CHECK(refl.counts().get(StampReflected::auth_failed) == 2);
}

TEST_CASE("CoS and Location are filled in; the reply is exactly as long as the request") {
    EventLoop loop;
    StampReflector refl(loop, settings());
    auto req = test_packet(0, {make_cos_tlv(StampCos{34, 0, 0, 0}), make_location_request(AF_INET),
                               make_padding_tlv(100), StampTlv{0, 250, {1, 2}}});
    auto reply = refl.reflect(arrival(req), Clock::now());
    REQUIRE(reply);
    CHECK(reply->bytes.size() == req.size());
    CHECK(reply->tos == 34 << 2);  // the reply carries DSCP1
    auto p = parse(*reply);
    REQUIRE(p.tlvs.size() == 4);
    auto cos = read_cos_tlv(p.tlvs[0]);
    REQUIRE(cos);
    CHECK(cos->dscp2 == 46);  // as it arrived
    auto loc = read_location_tlv(p.tlvs[1]);
    REQUIRE(loc);
    CHECK(loc->source == IpAddress::parse("10.1.2.3"));
    CHECK(loc->source_port == 40000);
    CHECK(loc->destination == IpAddress::parse("10.2.0.10"));
    CHECK(loc->destination_port == 862);
    CHECK(p.tlvs[3].flags == kTlvUnrecognised);  // type 250: not understood, said so
}

TEST_CASE("each source is limited to its rate") {
    EventLoop loop;
    auto s = settings();
    s.rate_limit = 10;  // burst 10
    StampReflector refl(loop, s);
    const auto now = Clock::now();
    int answered = 0;
    for (int i = 0; i < 30; ++i)
        answered += refl.reflect(arrival(test_packet(static_cast<std::uint32_t>(i))), now) ? 1 : 0;
    CHECK(answered == 10);
    CHECK(refl.counts().get(StampReflected::rate_limited) == 20);
    // Another source has its own allowance; a second later the first has ten more.
    CHECK(refl.reflect(arrival(test_packet(0), "10.1.9.9"), now));
    answered = 0;
    for (int i = 0; i < 30; ++i)
        answered +=
            refl.reflect(arrival(test_packet(static_cast<std::uint32_t>(i))), now + 1s) ? 1 : 0;
    CHECK(answered == 10);
}

TEST_CASE("sessions and per-source allowances are bounded, stateful or not") {
    EventLoop loop;
    for (bool stateful : {true, false}) {
        auto s = settings(stateful);
        s.max_sessions = 16;
        StampReflector refl(loop, s);
        const auto now = Clock::now();
        for (int i = 0; i < 100; ++i) {
            const std::string from = "10.1.3." + std::to_string(i);
            REQUIRE(
                refl.reflect(arrival(test_packet(0), from.c_str()), now + std::chrono::seconds(i)));
        }
        CHECK(refl.sessions() <= 16);
        CHECK(refl.sources() <= 16);
    }
}

TEST_CASE("a full table under a flood of spoofed sources keeps the sessions still talking") {
    EventLoop loop;
    auto s = settings();
    s.max_sessions = 64;
    StampReflector refl(loop, s);
    const auto start = Clock::now();
    std::uint32_t legit = 0;
    auto send_legit = [&](TimePoint now) {
        auto reply = refl.reflect(arrival(test_packet(legit), "10.1.2.3", 40000), now);
        REQUIRE(reply);
        CHECK(parse(*reply).seq == legit);  // its count goes on, never restarted
        ++legit;
    };
    // An established session (it has spoken more than once)...
    send_legit(start);
    send_legit(start);
    // ...then 20,000 spoofed one-packet sources, the real sender once every 100 of them: the
    // flood churns the table's probation, the session keeps its place and its count, and the
    // table stays at its bound.
    for (int i = 0; i < 20000; ++i) {
        const auto now = start + std::chrono::milliseconds(i);
        const std::string from =
            "10.1." + std::to_string(10 + i / 250) + "." + std::to_string(i % 250);
        refl.reflect(arrival(test_packet(0), from.c_str(), 50000), now);
        if (i % 100 == 0) send_legit(now);
    }
    CHECK(legit == 202);
    CHECK(refl.sessions() == 64);
    CHECK(refl.sources() <= 64);
    // Ten idle minutes later the session is new again, counting from 0; the idle ones go a few
    // at each packet.
    const auto later = start + std::chrono::minutes(11);
    CHECK(parse(*refl.reflect(arrival(test_packet(500), "10.1.2.3", 40000), later)).seq == 0);
    for (int i = 0; i < 4; ++i)
        refl.reflect(arrival(test_packet(501 + i), "10.1.2.3", 40000), later);
    CHECK(refl.sessions() == 1);
}

TEST_CASE("packets the kernel drops before the reflector reads them are counted as dropped") {
    // On loopback: a burst sent while the loop is not running overflows the reflector's
    // receive buffer. Every packet sent is then accounted for, and those the kernel dropped
    // are the reflector's drops, not loss on the network.
    EventLoop loop;
    REQUIRE(loop.init().ok());
    StampReflectorSettings s = settings();
    s.listen = {*Endpoint::parse("127.0.0.1:0")};
    s.allow = {*Prefix::parse("127.0.0.0/8")};
    s.rate_limit = 1e9;  // every packet read is answered
    StampReflector reflector(loop, s);
    const Status started = reflector.start();
    REQUIRE_MESSAGE(started.ok(), started.message());
    const Endpoint to = reflector.bound().at(0);
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_storage ss;
    const socklen_t len = to.address.to_sockaddr(to.port, ss);
    const auto packet = test_packet(1);
    constexpr int kSent = 20000;
    int sent = 0;
    for (int i = 0; i < kSent; ++i)
        if (sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&ss), len) ==
            static_cast<ssize_t>(packet.size()))
            ++sent;
    auto total = [&] {
        std::uint64_t n = 0;
        for (StampReflected r : kAllStampReflected)
            n += reflector.counts().get(r);
        return n;
    };
    // The kernel reports its drop count on the packets queued after the drops: the next one.
    for (int i = 0; i < 50; ++i)
        loop.run_once(10ms);
    if (sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&ss), len) ==
        static_cast<ssize_t>(packet.size()))
        ++sent;
    for (int i = 0; i < 500 && total() < static_cast<std::uint64_t>(sent); ++i)
        loop.run_once(10ms);
    close(fd);
    CHECK(sent > 0);
    CHECK(total() == static_cast<std::uint64_t>(sent));
    CHECK(reflector.counts().get(StampReflected::dropped) > 0);
    CHECK(reflector.counts().get(StampReflected::reflected) > 0);
    MESSAGE(reflector.counts().get(StampReflected::reflected)
            << " reflected, " << reflector.counts().get(StampReflected::dropped) << " dropped of "
            << sent);
}

namespace {

// A flood from 127.0.0.3 overflows the reflector's queue while a sender at 127.0.0.2 sends
// 100 test packets among it; then the loop runs. Returns the sender's replies and the drops.
std::pair<int, std::uint64_t> flood_beside_a_sender(bool sender_is_priority) {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    StampReflectorSettings s = settings();
    s.listen = {*Endpoint::parse("127.0.0.1:0")};
    s.allow = {*Prefix::parse("127.0.0.0/8")};
    s.rate_limit = 1e9;
    if (sender_is_priority) s.priority = {*IpAddress::parse("127.0.0.2")};
    StampReflector reflector(loop, s);
    const Status started = reflector.start();
    REQUIRE_MESSAGE(started.ok(), started.message());
    REQUIRE(reflector.bound().size() == 1);  // the senders' own queue is not another endpoint
    const Endpoint to = reflector.bound().at(0);
    auto bound_socket = [](const char* from) {
        const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        REQUIRE(fd >= 0);
        sockaddr_storage a;
        const socklen_t n = IpAddress::parse(from)->to_sockaddr(0, a);
        REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), n) == 0);
        return fd;
    };
    const int flood = bound_socket("127.0.0.3"), sender = bound_socket("127.0.0.2");
    sockaddr_storage ss;
    const socklen_t len = to.address.to_sockaddr(to.port, ss);
    const auto packet = test_packet(1);
    auto send = [&](int fd) {
        return sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&ss), len);
    };
    for (int i = 0; i < 20000; ++i) {
        (void)send(flood);
        if (i % 200 == 199) REQUIRE(send(sender) == static_cast<ssize_t>(packet.size()));
    }
    for (int i = 0; i < 50; ++i)
        loop.run_once(10ms);
    // The kernel reports its drop count on the packet queued after the drops: one more.
    (void)send(flood);
    for (int i = 0; i < 50; ++i)
        loop.run_once(10ms);
    int replies = 0;
    std::uint8_t buf[512];
    while (recv(sender, buf, sizeof buf, 0) > 0)
        ++replies;
    close(flood);
    close(sender);
    return {replies, reflector.counts().get(StampReflected::dropped)};
}

}  // namespace

TEST_CASE("the federation's senders have a queue of their own, which a flood cannot fill") {
    const auto [shared_replies, shared_drops] = flood_beside_a_sender(false);
    const auto [own_replies, own_drops] = flood_beside_a_sender(true);
    MESSAGE("one queue: " << shared_replies << " of 100 answered, " << shared_drops
                          << " dropped; the senders' own: " << own_replies << " of 100, "
                          << own_drops << " dropped");
    CHECK(shared_drops > 0);
    CHECK(shared_replies < 100);  // the flood's overflow took the sender's packets too
    CHECK(own_drops > 0);         // the flood still overflowed its own queue
    CHECK(own_replies == 100);
}

TEST_CASE("the steering program: each address's words, short jumps, and nothing for no address") {
    const std::vector<IpAddress> sources = {*IpAddress::parse("2001:db8::1"),
                                            *IpAddress::parse("10.1.2.3"),
                                            *IpAddress::parse("2001:db8::2")};
    const auto v6 = stamp_steering_program(AF_INET6, sources);
    REQUIRE(v6.size() == 2 * 9 + 1);
    CHECK(v6[0].k == static_cast<std::uint32_t>(SKF_NET_OFF) + 8);
    CHECK(v6[1].k == 0x20010db8);
    CHECK(v6[1].jf == 7);  // past this address's block
    CHECK(v6[7].k == 1);   // ::1's last word
    CHECK(v6[7].jf == 1);
    CHECK(v6[8].code == (BPF_RET | BPF_K));
    CHECK(v6[8].k == 1);
    CHECK(v6[16].k == 2);
    CHECK(v6.back().k == 0);
    const auto v4 = stamp_steering_program(AF_INET, sources);
    REQUIRE(v4.size() == 4);
    CHECK(v4[0].k == static_cast<std::uint32_t>(SKF_NET_OFF) + 12);
    CHECK(v4[1].k == 0x0a010203);
    CHECK(stamp_steering_program(AF_INET, std::vector<IpAddress>{}).empty());
    std::vector<IpAddress> many(kMostSteeredSources + 10, *IpAddress::parse("10.0.0.1"));
    CHECK(stamp_steering_program(AF_INET, many).size() == 3 * kMostSteeredSources + 1);
}
