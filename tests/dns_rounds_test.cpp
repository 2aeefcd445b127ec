// The dns probe (c-ares on the probe's Wire) on a fake wire, without root, a resolver or a
// packet sent: thousands of queries against a network that answers late, twice, or not at all,
// and slips in replies with a foreign ID, replies to another question, runts, and ICMP errors
// from the server and from routers. The first answer c-ares must accept decides; the rest are
// ignored. Over TCP, an answer cut into pieces and a refused connect.
#include <doctest/doctest.h>
#include <time.h>

#include <linux/errqueue.h>
#include <netinet/in.h>

#include <random>
#include <string>

#include "probes/dns/dns_match.hpp"
#include "probes/dns/dns_probe.hpp"
#include "tests/fake_wire.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;
using fedprobe::test::FakeWire;

namespace {

const IpAddress kServer = *IpAddress::parse("192.0.2.53");
const IpAddress kRouter = *IpAddress::parse("198.51.100.1");
// The probe's own timer ends a query this long after its timeout (DnsProbe::start).
constexpr int kGraceMs = 50;

struct Question {
    std::uint16_t id = 0;
    std::vector<std::uint8_t> section;  // the question as asked: name, type, class
    std::string name;
};

// The query c-ares sent; it must be one question of type A, class IN.
Question parse_query(const std::vector<std::uint8_t>& q) {
    REQUIRE(q.size() > 12);
    Question out;
    out.id = static_cast<std::uint16_t>(q[0] << 8 | q[1]);
    CHECK((q[2] & 0x80) == 0);       // a query
    CHECK((q[4] << 8 | q[5]) == 1);  // one question
    std::size_t i = 12;
    while (i < q.size() && q[i] != 0) {
        const std::size_t len = q[i];
        if (!out.name.empty()) out.name += '.';
        out.name.append(q.begin() + static_cast<std::ptrdiff_t>(i + 1),
                        q.begin() + static_cast<std::ptrdiff_t>(i + 1 + len));
        i += len + 1;
    }
    REQUIRE(i + 5 <= q.size());
    CHECK((q[i + 1] << 8 | q[i + 2]) == 1);  // A
    CHECK((q[i + 3] << 8 | q[i + 4]) == 1);  // IN
    out.section.assign(q.begin() + 12, q.begin() + static_cast<std::ptrdiff_t>(i + 5));
    return out;
}

// A response to `q` with `rcode` and an A record per address.
std::vector<std::uint8_t> response(const Question& q, int rcode,
                                   const std::vector<std::string>& addresses) {
    std::vector<std::uint8_t> r = {static_cast<std::uint8_t>(q.id >> 8),
                                   static_cast<std::uint8_t>(q.id),
                                   0x81,  // QR, RD
                                   static_cast<std::uint8_t>(0x80 | rcode),
                                   0,
                                   1,
                                   0,
                                   static_cast<std::uint8_t>(addresses.size()),
                                   0,
                                   0,
                                   0,
                                   0};
    r.insert(r.end(), q.section.begin(), q.section.end());
    for (const auto& a : addresses) {
        const IpAddress ip = *IpAddress::parse(a);
        const std::uint8_t rr[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4};
        r.insert(r.end(), std::begin(rr), std::end(rr));
        r.insert(r.end(), ip.bytes.begin(), ip.bytes.begin() + 4);
    }
    return r;
}

QueuedError icmp_error(std::uint8_t code) {
    QueuedError e;
    e.origin = SO_EE_ORIGIN_ICMP;
    e.type = 3;
    e.code = code;
    e.err = code == 3 ? ECONNREFUSED : code == 13 ? EACCES : ENETUNREACH;
    e.offender = code == 3 ? kServer : kRouter;
    return e;
}

struct Script {
    std::optional<int> answer_ms;
    int rcode = 0;
    std::vector<std::string> addresses;
    int duplicates = 0;
    std::optional<int> foreign_id_ms;      // a reply with another ID
    std::optional<int> other_question_ms;  // the right ID, another name
    std::optional<int> runt_ms;            // 5 bytes
    std::optional<int> icmp_ms;
    std::uint8_t icmp_code = 3;
};

struct Planned {
    Script script;
    int timeout_ms = 0;
    DnsQuery query;
    std::vector<std::string> expected;
    std::optional<TimePoint> sent;
    int results = 0;
    ProbeResult result;
};

void check_verdict(const Planned& p) {
    const Script& s = p.script;
    const int deadline = p.timeout_ms + kGraceMs;
    INFO("deadline " << deadline << " ms, answer " << (s.answer_ms ? *s.answer_ms : -1) << " rcode "
                     << s.rcode << ", icmp " << (s.icmp_ms ? *s.icmp_ms : -1) << " code "
                     << int(s.icmp_code) << "; got " << to_string(p.result.outcome) << ": "
                     << p.result.detail);
    const ProbeResult& r = p.result;
    const DnsResult* dns = r.as<DnsKind>();
    REQUIRE(dns);
    const bool answer = s.answer_ms && *s.answer_ms < deadline;
    const bool icmp = s.icmp_ms && *s.icmp_ms < deadline;
    if (answer && (!icmp || *s.answer_ms < *s.icmp_ms)) {
        const DnsCheck want = check_dns_answer(s.rcode, s.addresses, p.query, p.expected);
        CHECK(r.outcome == want.outcome);
        CHECK(dns->rcode == s.rcode);
        CHECK(dns->answers == static_cast<int>(s.addresses.size()));
        CHECK(r.duration == std::chrono::milliseconds(*s.answer_ms));
        CHECK(!r.reporter);
    } else if (icmp) {
        const Outcome want = s.icmp_code == 3    ? Outcome::refused
                             : s.icmp_code == 13 ? Outcome::prohibited
                                                 : Outcome::unreachable;
        CHECK(r.outcome == want);
        REQUIRE(r.reporter);
        CHECK(*r.reporter == (s.icmp_code == 3 ? kServer : kRouter));
        CHECK(r.duration == std::chrono::milliseconds(*s.icmp_ms));
        CHECK(dns->rcode == -1);
    } else {
        CHECK(r.outcome == Outcome::filtered);
        CHECK(r.duration == std::chrono::milliseconds(deadline));
        CHECK(dns->rcode == -1);
    }
}

ProbeRequest request_for(std::size_t i, const Planned& p, bool tcp) {
    ProbeRequest req;
    req.destination = kServer;
    req.port = 53;
    req.timeout = std::chrono::milliseconds(p.timeout_ms);
    (void)i;
    req.params = DnsParams{p.query, p.expected, tcp};
    return req;
}

void run(std::uint32_t seed, int count) {
    CAPTURE(seed);
    std::mt19937 rng(seed);
    auto chance = [&](double x) { return std::uniform_real_distribution<>(0, 1)(rng) < x; };
    auto between = [&](int lo, int hi) { return std::uniform_int_distribution<>(lo, hi)(rng); };

    FakeWire wire;
    std::vector<Planned> planned(static_cast<std::size_t>(count));
    std::map<std::string, std::size_t> by_name;  // the network knows a query by its name
    std::uint64_t decoys = 0;
    wire.on_send = [&](const FakeWire::Sent& s) {
        CHECK(s.type == SOCK_DGRAM);
        CHECK(s.to == kServer);
        CHECK(s.port == 53);
        const Question q = parse_query(s.bytes);
        auto it = by_name.find(q.name);
        REQUIRE(it != by_name.end());
        Planned& p = planned[it->second];
        CHECK(!p.sent);  // tries = 1: one datagram per query
        p.sent = s.at;
        const Script& sc = p.script;
        auto at = [&](int ms) { return s.at + std::chrono::milliseconds(ms); };
        if (sc.answer_ms) {
            auto r = response(q, sc.rcode, sc.addresses);
            wire.deliver(s.fd, r, at(*sc.answer_ms));
            for (int d = 1; d <= sc.duplicates; ++d)
                wire.deliver(s.fd, r, at(*sc.answer_ms + d * between(1, 40)));
        }
        if (sc.foreign_id_ms) {
            Question other = q;
            other.id = static_cast<std::uint16_t>(q.id + 1);
            wire.deliver(s.fd, response(other, 0, {"203.0.113.66"}), at(*sc.foreign_id_ms));
            ++decoys;
        }
        if (sc.other_question_ms) {
            Question other = q;
            other.section[1] = 'z';  // "zost7.kent-nhs.lab": another name
            wire.deliver(s.fd, response(other, 0, {"203.0.113.67"}), at(*sc.other_question_ms));
            ++decoys;
        }
        if (sc.runt_ms) {
            wire.deliver(s.fd, {0, 1, 2, 3, 4}, at(*sc.runt_ms));
            ++decoys;
        }
        if (sc.icmp_ms) wire.deliver_error(s.fd, icmp_error(sc.icmp_code), at(*sc.icmp_ms));
    };

    DnsProbe probe(wire);
    auto event_ms = [&](int deadline) {
        for (;;) {
            const int ms = between(0, deadline * 2);
            if (std::abs(ms - deadline) > 2) return ms;
        }
    };
    TimePoint t = wire.now();
    for (int i = 0; i < count; ++i) {
        Planned& p = planned[static_cast<std::size_t>(i)];
        p.timeout_ms = between(50, 800);
        const int deadline = p.timeout_ms + kGraceMs;
        p.query.name = "host" + std::to_string(i) + ".kent-nhs.lab";
        p.expected = {"10.31.0." + std::to_string(i % 250 + 1)};
        Script& s = p.script;
        if (chance(0.7)) {
            s.answer_ms = event_ms(deadline);
            s.addresses = chance(0.8) ? p.expected : std::vector<std::string>{"10.99.0.1"};
            if (chance(0.1)) {
                s.rcode = 3;  // NXDOMAIN, without records
                s.addresses.clear();
            }
            if (chance(0.2)) s.duplicates = between(1, 3);
        }
        if (chance(0.15)) s.foreign_id_ms = event_ms(deadline);
        if (chance(0.15)) s.other_question_ms = event_ms(deadline);
        if (chance(0.1)) s.runt_ms = event_ms(deadline);
        if (chance(0.2)) {
            s.icmp_ms = event_ms(deadline);
            s.icmp_code =
                std::array<std::uint8_t, 3>{3, 0, 13}[static_cast<std::size_t>(between(0, 2))];
            if (s.answer_ms && std::abs(*s.answer_ms - *s.icmp_ms) <= 2) s.icmp_ms.reset();
        }
        by_name[p.query.name] = static_cast<std::size_t>(i);
        t += std::chrono::milliseconds(between(0, 3));
        wire.run_until(t);
        probe.start(request_for(static_cast<std::size_t>(i), p, false), [&p](ProbeResult r) {
            ++p.results;
            p.result = std::move(r);
        });
    }
    wire.run_until_idle(1h);

    for (const Planned& p : planned) {
        REQUIRE(p.results == 1);
        REQUIRE(p.sent);
        check_verdict(p);
    }
    MESSAGE("seed " << seed << ": " << count << " queries, " << decoys << " decoys, "
                    << wire.dropped_on_closed() << " answers reached closed sockets");
    CHECK(wire.dropped_on_closed() > 0);
    CHECK(wire.open_sockets() == 0);
    CHECK(wire.pending_timers() == 0);
    CHECK(probe.in_flight() == 0);
    CHECK_MESSAGE(wire.misuse().empty(), wire.misuse_text());
}

}  // namespace

TEST_CASE("dns rounds: randomised exchanges over udp") {
    for (std::uint32_t seed : {1u, 2u, 3u, 4u})
        run(seed, 2000);
}

TEST_CASE("dns over tcp: an answer cut into pieces is read whole; a refused connect is refused") {
    FakeWire wire;
    bool refuse = false;
    wire.on_connect = [&](int fd, const IpAddress& to, std::uint16_t port) {
        CHECK(to == kServer);
        CHECK(port == 53);
        if (refuse)
            wire.refuse(fd, ECONNREFUSED, wire.now() + 3ms);
        else
            wire.accept(fd, wire.now() + 5ms);
    };
    std::vector<std::uint8_t> stream_in;
    wire.on_send = [&](const FakeWire::Sent& s) {
        CHECK(s.type == SOCK_STREAM);
        stream_in.insert(stream_in.end(), s.bytes.begin(), s.bytes.end());
        if (stream_in.size() < 2) return;
        const std::size_t len = std::size_t(stream_in[0]) << 8 | stream_in[1];
        if (stream_in.size() < 2 + len) return;
        const Question q = parse_query({stream_in.begin() + 2, stream_in.end()});
        auto r = response(q, 0, {"10.31.0.7"});
        std::vector<std::uint8_t> framed = {static_cast<std::uint8_t>(r.size() >> 8),
                                            static_cast<std::uint8_t>(r.size())};
        framed.insert(framed.end(), r.begin(), r.end());
        // In three pieces: the length's first byte, then most, then the rest.
        const auto cut1 = framed.begin() + 1, cut2 = framed.begin() + 20;
        wire.deliver(s.fd, {framed.begin(), cut1}, s.at + 10ms);
        wire.deliver(s.fd, {cut1, cut2}, s.at + 20ms);
        wire.deliver(s.fd, {cut2, framed.end()}, s.at + 30ms);
    };
    DnsProbe probe(wire);
    Planned p;
    p.timeout_ms = 500;
    p.query.name = "pacs.kent-nhs.lab";
    p.expected = {"10.31.0.7"};
    std::optional<ProbeResult> got;
    probe.start(request_for(0, p, true), [&](ProbeResult r) { got = std::move(r); });
    wire.run_until_idle(10s);
    REQUIRE(got);
    CHECK(got->outcome == Outcome::ok);
    CHECK(got->duration == 35ms);  // connected after 5 ms, the last piece 30 ms after the query
    CHECK(got->as<DnsKind>()->answers == 1);

    refuse = true;
    got.reset();
    stream_in.clear();
    probe.start(request_for(0, p, true), [&](ProbeResult r) { got = std::move(r); });
    wire.run_until_idle(10s);
    REQUIRE(got);
    CHECK(got->outcome == Outcome::refused);
    CHECK(got->reporter == kServer);
    CHECK(wire.open_sockets() == 0);
    CHECK(wire.pending_timers() == 0);
    CHECK_MESSAGE(wire.misuse().empty(), wire.misuse_text());
}
