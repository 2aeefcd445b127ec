// The path probe's rounds (Paris traceroute over ICMP, IPv4) on a fake wire, without root or a
// packet sent: a network of routers that answer "time exceeded" as Linux does (one a second
// per source after a burst of 6), a destination with the same allowance for its echo replies,
// loss, answers that arrive late, twice, or from nowhere we sent to, and a firewall that drops
// everything past a hop. Checked on every round: no hop is ever a router that is not at that
// TTL, a clean path is traced whole, a firewall's hop is where the trace stops, every round
// ends, and a round never sends more than its TTLs' attempts and confirmations allow (the retry
// storm that once spent the interconnect's allowance).
#include <doctest/doctest.h>

#include <netinet/in.h>

#include <cstring>
#include <map>
#include <random>

#include "core/rate_limiter.hpp"
#include "probes/path/path_probe.hpp"
#include "probes/path/path_trace.hpp"
#include "tests/fake_wire.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;
using fedprobe::test::FakeWire;

namespace {

const IpAddress kSource = *IpAddress::parse("10.0.0.1");

IpAddress router(int hop) {
    return *IpAddress::parse("10.9." + std::to_string(hop) + ".1");
}

// An IPv4 header from `from` to us, then `body`.
std::vector<std::uint8_t> ipv4(const IpAddress& from, std::uint8_t ttl,
                               std::span<const std::uint8_t> body) {
    const std::size_t total = 20 + body.size();
    std::vector<std::uint8_t> p(total);
    p[0] = 0x45;
    p[2] = static_cast<std::uint8_t>(total >> 8);
    p[3] = static_cast<std::uint8_t>(total);
    p[8] = ttl;
    p[9] = IPPROTO_ICMP;
    std::memcpy(&p[12], from.bytes.data(), 4);
    std::memcpy(&p[16], kSource.bytes.data(), 4);
    std::copy(body.begin(), body.end(), p.begin() + 20);
    return p;
}

// A router's "time exceeded", quoting our packet as it arrived there (its TTL 1).
std::vector<std::uint8_t> time_exceeded(const IpAddress& from, std::vector<std::uint8_t> probe) {
    probe[8] = 1;
    std::vector<std::uint8_t> body = {11, 0, 0, 0, 0, 0, 0, 0};
    body.insert(body.end(), probe.begin(), probe.end());
    return ipv4(from, 64, body);
}

// The destination's echo reply to our echo request.
std::vector<std::uint8_t> echo_reply(const IpAddress& from,
                                     const std::vector<std::uint8_t>& probe) {
    std::vector<std::uint8_t> body(probe.begin() + 20, probe.end());
    body[0] = 0;
    return ipv4(from, 60, body);
}

// Linux's ICMP allowance towards one source: a burst of 6, then one a second.
struct Allowance {
    double tokens = 6;
    TimePoint last{};
    bool take(TimePoint now) {
        if (last != TimePoint{})
            tokens = std::min(6.0, tokens + std::chrono::duration<double>(now - last).count());
        last = now;
        if (tokens < 1) return false;
        tokens -= 1;
        return true;
    }
};

struct Network {
    int hops = 5;              // routers; the destination is at hops + 1
    int firewall_after = 0;    // drops everything past this hop (0: none)
    double loss = 0;           // of probes and of answers, each way
    bool rate_limits = false;  // routers and the destination keep Linux's allowance
    double strangers = 0;      // answers that quote nothing we sent
    std::map<std::string, Allowance> allowance;  // per sender
};

struct Outcome_ {
    int packets = 0;
    std::optional<ProbeResult> result;
    Duration took{};
};

// Runs `rounds` rounds to `destination` through `net`, one every `every`; returns each.
std::vector<Outcome_> trace(FakeWire& wire, PathProbe& probe, Network& net, std::mt19937& rng,
                            const IpAddress& destination, int rounds, Duration every,
                            PathParams params) {
    auto chance = [&](double p) { return std::uniform_real_distribution<>(0, 1)(rng) < p; };
    auto ms = [&](int lo, int hi) {
        return std::chrono::microseconds(
            std::uniform_int_distribution<int>(lo * 1000, hi * 1000)(rng));
    };
    std::vector<Outcome_> out(static_cast<std::size_t>(rounds));
    std::size_t current = 0;
    wire.on_send = [&](const FakeWire::Sent& s) {
        REQUIRE(s.type == SOCK_RAW);
        REQUIRE(s.to == destination);
        REQUIRE(s.bytes.size() >= 28);
        ++out[current].packets;
        const int ttl = s.bytes[8];
        const auto readers = wire.sockets_of(AF_INET, SOCK_RAW, IPPROTO_ICMP);
        REQUIRE(readers.size() == 1);
        const int reader = readers.front();
        if (chance(net.strangers)) {  // an answer to a packet we never sent
            auto other = s.bytes;
            other[16] ^= 0x40;  // another destination
            wire.deliver_from(reader, time_exceeded(router(1), other), router(1), s.at + ms(1, 5));
        }
        if (chance(net.loss)) return;
        const int at = std::min(ttl, net.hops + 1);
        if (net.firewall_after && at > net.firewall_after) return;
        const IpAddress from = at <= net.hops ? router(at) : destination;
        if (net.rate_limits && !net.allowance[from.str()].take(s.at)) return;
        if (chance(net.loss)) return;
        auto answer = at <= net.hops ? time_exceeded(from, s.bytes) : echo_reply(from, s.bytes);
        const TimePoint when = s.at + ms(1, 3) * at;
        wire.deliver_from(reader, answer, from, when);
        if (chance(0.05)) wire.deliver_from(reader, answer, from, when + ms(0, 50));
    };
    ProbeRequest req;
    req.destination = destination;
    req.timeout = 700ms;
    req.params = params;
    for (int i = 0; i < rounds; ++i) {
        current = static_cast<std::size_t>(i);
        const TimePoint next = wire.now() + every;
        probe.start(req, [&out, i](ProbeResult r) {
            REQUIRE(!out[static_cast<std::size_t>(i)].result);
            out[static_cast<std::size_t>(i)].result = std::move(r);
        });
        const TimePoint started = wire.now();
        // Every round ends: within its timeout per attempt, the destination's confirmations a
        // second apart, and the routers' spacing.
        wire.run_until_idle(5s);
        INFO("packets " << out[current].packets << ", in flight " << probe.rounds_in_flight()
                        << ", answers " << probe.stats().answers << ", late " << probe.stats().late
                        << ", timers " << wire.pending_timers_text());
        REQUIRE(out[current].result);
        out[current].took = wire.now() - started;
        wire.run_until(std::max(next, wire.now()));
    }
    wire.on_send = nullptr;
    return out;
}

// What a round of `params` may send at most: every TTL's attempts, plus the destination's
// confirmations (PathProbe: two more, a second apart).
int packet_bound(const PathParams& params) {
    return params.max_ttl * params.attempts + 2;
}

void check_hops(const FlowTrace& t, const Network& net, const IpAddress& destination) {
    for (const PathHop& h : t.hops) {
        if (!h.address) continue;
        const IpAddress want = h.ttl <= net.hops ? router(h.ttl) : destination;
        CAPTURE(h.ttl);
        CHECK(*h.address == want);  // never a router that is not there, never a stranger
    }
}

PathParams icmp_params() {
    PathParams p;
    p.method = PathMethod::icmp;
    p.max_ttl = 12;
    p.attempts = 2;
    p.gap_limit = 4;
    return p;
}

}  // namespace

TEST_CASE("path rounds: a clean path is traced whole, every round") {
    FakeWire wire;
    PathProbe probe(wire);
    std::mt19937 rng(7);
    Network net;
    const IpAddress dst = *IpAddress::parse("192.0.2.50");
    const auto rounds = trace(wire, probe, net, rng, dst, 20, 5s, icmp_params());
    for (const auto& o : rounds) {
        const ProbeResult& r = *o.result;
        CHECK(r.outcome == Outcome::ok);
        const PathResult& p = *r.as<PathKind>();
        REQUIRE(p.flows.size() == 1);
        const FlowTrace& t = p.flows.front();
        CHECK(t.stop == PathStop::reached);
        CHECK(t.stop_ttl == net.hops + 1);
        REQUIRE(t.hops.size() >= static_cast<std::size_t>(net.hops + 1));
        for (int ttl = 1; ttl <= net.hops; ++ttl)
            CHECK(t.hops[static_cast<std::size_t>(ttl - 1)].address == router(ttl));
        check_hops(t, net, dst);
        CHECK(o.packets <= packet_bound(icmp_params()));
    }
}

TEST_CASE("path rounds: a firewall after hop 3 is where every trace stops") {
    FakeWire wire;
    PathProbe probe(wire);
    std::mt19937 rng(8);
    Network net;
    net.firewall_after = 3;
    const IpAddress dst = *IpAddress::parse("192.0.2.51");
    const auto rounds = trace(wire, probe, net, rng, dst, 10, 10s, icmp_params());
    for (const auto& o : rounds) {
        const PathResult& p = *o.result->as<PathKind>();
        const FlowTrace& t = p.flows.front();
        CHECK(t.stop != PathStop::reached);
        const auto b = blocked_after(p);
        REQUIRE(b);
        CHECK(b->ttl == 3);
        CHECK(b->hop == router(3));
        check_hops(t, net, dst);
        // The silent TTLs past the firewall cost their attempts up to the gap limit, no more.
        CHECK(o.packets <= 3 + (icmp_params().gap_limit + 1) * icmp_params().attempts + 2);
    }
}

TEST_CASE("path rounds: randomised loss, rate limits, duplicates and strangers") {
    for (std::uint32_t seed : {1u, 2u, 3u, 4u}) {
        CAPTURE(seed);
        FakeWire wire;
        PathProbe probe(wire);
        std::mt19937 rng(seed);
        Network net;
        net.hops = std::uniform_int_distribution<int>(2, 8)(rng);
        net.loss = 0.05;
        net.rate_limits = true;
        net.strangers = 0.05;
        const IpAddress dst = *IpAddress::parse("192.0.2." + std::to_string(60 + seed));
        // Two Paris flows a round, a round a second: each router is asked for about four
        // answers a second against its allowance of one.
        PathParams params = icmp_params();
        params.flows = 2;
        const auto rounds = trace(wire, probe, net, rng, dst, 60, 1s, params);
        int reached = 0, packets = 0, further = 0;
        Duration longest{};
        for (const auto& o : rounds) {
            const PathResult& p = *o.result->as<PathKind>();
            const FlowTrace& t = p.flows.front();
            check_hops(t, net, dst);
            CHECK(o.packets <= params.flows * packet_bound(params));
            reached += t.stop == PathStop::reached;
            packets += o.packets;
            // The destination is never placed nearer than it is. Further, when its own answer
            // at its distance was rate-limited and a later TTL's came back: a traceroute's "*"
            // then the destination, counted.
            if (t.stop == PathStop::reached) CHECK(t.stop_ttl >= net.hops + 1);
            further += t.stop == PathStop::reached && t.stop_ttl > net.hops + 1;
            longest = std::max(longest, o.took);
        }
        MESSAGE("seed " << seed << ": " << net.hops + 1 << " hops, " << reached << " of "
                        << rounds.size() << " rounds reached the destination (" << further
                        << " placing it further), the longest in "
                        << std::chrono::duration<double>(longest).count() << " s, " << packets
                        << " packets; probe: " << probe.stats().answers << " answers, "
                        << probe.stats().late << " late, " << probe.stats().router_misses
                        << " router misses");
        CHECK(reached >= static_cast<int>(rounds.size()) / 2);
        CHECK(probe.rounds_in_flight() == 0);
        CHECK_MESSAGE(wire.misuse().empty(), wire.misuse_text());
    }
}

TEST_CASE("path rounds: under a silent fault and a slow pacer, each retry goes once") {
    // Every TTL silent, and the destination network's budget (20/s) below the trace's packets:
    // retries wait for their slots. A waiting retry was once queued again by every other TTL's
    // deadline: one TTL went out 7 times a second and the round never ended (the lab's
    // route-withdrawn, #30). 8 TTLs, 2 attempts each, nothing past the gap limit, and 2
    // confirmations of the first TTL past the routers: 18 packets.
    FakeWire wire;
    PathProbe probe(wire);
    int packets = 0;
    wire.on_send = [&](const FakeWire::Sent&) { ++packets; };
    ProbeRequest req;
    req.destination = *IpAddress::parse("192.0.2.99");
    req.timeout = 200ms;
    PathParams params;
    params.method = PathMethod::icmp;
    req.params = params;
    req.pacer = std::make_shared<RateLimiter>(20.0, 1.0);
    std::optional<ProbeResult> got;
    probe.start(req, [&](ProbeResult r) { got = std::move(r); });
    wire.run_until_idle(30s);
    REQUIRE(got);
    CHECK(got->outcome == Outcome::filtered);
    CHECK(packets == 18);
    CHECK(got->as<PathKind>()->packets_sent == 18);
    CHECK(probe.rounds_in_flight() == 0);
}
