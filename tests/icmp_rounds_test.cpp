// The icmp probe's rounds on a fake wire (ping sockets, as an unprivileged daemon gets), without
// root or a packet sent: many targets' rounds overlapping on the one shared socket, through a
// network that loses echoes, delays and duplicates replies, answers after the deadline, sends
// replies from the wrong address and with the wrong nonce, garbage, and ICMP errors from a
// router. Each round's count, round trips, duplicates and verdict are checked against its
// packets' scripted fates. As chrony's tests randomise their exchanges.
#include <doctest/doctest.h>
#include <time.h>

#include <linux/errqueue.h>
#include <netinet/in.h>

#include <map>
#include <random>

#include "probes/icmp/icmp_packet.hpp"
#include "probes/icmp/icmp_probe.hpp"
#include "tests/fake_wire.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;
using fedprobe::test::FakeWire;

namespace {

const IpAddress kRouter = *IpAddress::parse("198.51.100.1");
const IpAddress kStranger = *IpAddress::parse("203.0.113.9");

struct Fate {
    TimePoint sent{};
    std::optional<TimePoint> reply;  // the first copy's arrival
    std::vector<TimePoint> copies;   // duplicates' arrivals
    std::optional<TimePoint> error;  // a router's "host unreachable" about it
};

struct Round {
    int packets = 0;
    Duration timeout{};
    std::vector<Fate> fates;
    std::optional<ProbeResult> result;
    TimePoint finished{};
};

struct Target {
    IpAddress address;
    std::vector<Round> rounds;
    bool busy = false;
};

void run(std::uint32_t seed) {
    CAPTURE(seed);
    std::mt19937 rng(seed);
    auto chance = [&](double p) { return std::uniform_real_distribution<>(0, 1)(rng) < p; };
    auto micros = [&](int lo, int hi) {
        return std::chrono::microseconds(std::uniform_int_distribution<int>(lo, hi)(rng));
    };

    FakeWire wire;
    std::vector<Target> targets(24);
    for (std::size_t i = 0; i < targets.size(); ++i)
        targets[i].address = *IpAddress::parse("192.0.2." + std::to_string(30 + i));
    auto target_of = [&](const IpAddress& a) -> Target& {
        for (auto& t : targets)
            if (t.address == a) return t;
        FAIL("an echo to an address no target has");
        return targets[0];
    };
    int foreign = 0;
    wire.on_send_packet = [&](const FakeWire::Sent& s, const PacketOptions& options) {
        CHECK(s.protocol == IPPROTO_ICMP);
        CHECK(options.ttl == 0);
        Target& t = target_of(s.to);
        REQUIRE(t.busy);
        Round& r = t.rounds.back();
        Fate& f = r.fates.emplace_back();
        f.sent = s.at;
        REQUIRE(static_cast<int>(r.fates.size()) <= r.packets);
        const auto timeout_us = std::chrono::duration_cast<std::chrono::microseconds>(r.timeout);
        if (chance(0.15)) {  // lost
            if (chance(0.3)) f.error = s.at + micros(100, static_cast<int>(timeout_us.count() / 2));
        } else {
            // Mostly well in time; some after the deadline.
            const auto delay = chance(0.1) ? timeout_us + micros(2000, 300000) : micros(50, 40000);
            f.reply = s.at + delay;
            if (chance(0.15)) f.copies.push_back(*f.reply + micros(1, 3000));
        }
        std::vector<std::uint8_t> reply(s.bytes.begin(), s.bytes.end());
        reply[0] = 0;  // echo reply
        if (f.reply) wire.deliver_from(s.fd, reply, s.to, *f.reply);
        for (TimePoint at : f.copies)
            wire.deliver_from(s.fd, reply, s.to, at);
        if (f.error) {
            QueuedError e;
            e.origin = SO_EE_ORIGIN_ICMP;
            e.type = 3;
            e.code = 1;
            e.err = EHOSTUNREACH;
            e.offender = kRouter;
            e.quoted = s.bytes;
            wire.deliver_error(s.fd, e, *f.error);
        }
        // Strangers: the same reply from another address, one with a nonce of its own, garbage.
        if (chance(0.05)) {
            wire.deliver_from(s.fd, reply, kStranger, s.at + micros(10, 5000));
            ++foreign;
        }
        if (chance(0.05)) {
            auto forged = reply;
            forged[20] ^= 0x5a;  // in the nonce
            wire.deliver_from(s.fd, forged, s.to, s.at + micros(10, 5000));
            ++foreign;
        }
        if (chance(0.03)) {
            wire.deliver_from(s.fd, {1, 2, 3}, s.to, s.at + micros(10, 5000));
            ++foreign;
        }
    };

    IcmpProbe probe(wire);
    auto start_round = [&](Target& t) {
        Round& r = t.rounds.emplace_back();
        r.packets = std::uniform_int_distribution<int>(1, 6)(rng);
        r.timeout = std::chrono::duration_cast<Duration>(micros(100000, 800000));
        IcmpParams p;
        p.packets = r.packets;
        p.spacing = std::chrono::duration_cast<Duration>(micros(1000, 50000));
        ProbeRequest req;
        req.destination = t.address;
        req.timeout = r.timeout;
        req.params = p;
        t.busy = true;
        const std::size_t index = t.rounds.size() - 1;
        probe.start(req, [&t, index, &wire](ProbeResult res) {
            Round& done = t.rounds[index];
            REQUIRE(!done.result);
            done.result = std::move(res);
            done.finished = wire.now();
            t.busy = false;
        });
    };
    // Ten virtual minutes: each target starts its next round a random pause after its last.
    const TimePoint end = wire.now() + 10min;
    std::map<std::size_t, TimePoint> next;
    for (std::size_t i = 0; i < targets.size(); ++i)
        next[i] = wire.now() + micros(0, 1000000);
    while (wire.now() < end) {
        for (std::size_t i = 0; i < targets.size(); ++i) {
            Target& t = targets[i];
            if (t.busy || wire.now() < next[i]) continue;
            start_round(t);
            next[i] = wire.now() + micros(0, 2000000);
        }
        wire.run_until(wire.now() + 10ms);
    }
    wire.run_until_idle(1min);

    int rounds = 0, late = 0, duplicates = 0, errors = 0;
    for (const Target& t : targets) {
        for (const Round& r : t.rounds) {
            ++rounds;
            REQUIRE(r.result);
            const ProbeResult& res = *r.result;
            const IcmpResult& k = *res.as<IcmpKind>();
            REQUIRE(static_cast<int>(r.fates.size()) == r.packets);
            CHECK(k.packets_sent == static_cast<std::uint32_t>(r.packets));
            // A reply counts when it came by the deadline: the timeout after the last request.
            const TimePoint deadline = r.fates.back().sent + r.timeout;
            std::vector<Duration> want;
            std::uint32_t dups = 0;
            bool error = false;
            for (const Fate& f : r.fates) {
                if (f.reply && *f.reply <= deadline) {
                    want.push_back(*f.reply - f.sent);
                    for (TimePoint c : f.copies)
                        dups += c <= r.finished;
                } else if (f.reply) {
                    ++late;
                }
                error |= f.error && *f.error <= r.finished;
            }
            std::vector<Duration> got = k.rtts;
            std::sort(got.begin(), got.end());
            std::sort(want.begin(), want.end());
            CHECK(got == want);
            CHECK(k.packets_received == want.size());
            CHECK(k.duplicates == dups);
            duplicates += static_cast<int>(dups);
            CHECK(!res.overload);
            if (!want.empty()) {
                CHECK(res.outcome == Outcome::ok);
                CHECK(!res.reporter);
            } else if (error) {
                ++errors;
                CHECK(res.outcome == Outcome::unreachable);
                CHECK(res.reporter == kRouter);
            } else {
                CHECK(res.outcome == Outcome::filtered);
            }
            // Early when every request has its answer, else at the deadline (and at most the
            // 5 ms the timeouts are coalesced by).
            CHECK(r.finished <= deadline + 6ms);
        }
    }
    MESSAGE("seed " << seed << ": " << rounds << " rounds, " << late << " replies after the "
                    << "deadline, " << duplicates << " duplicates, " << errors
                    << " rounds told by a router, " << foreign << " strangers; probe counted "
                    << probe.stats().late << " late, " << probe.stats().unmatched << " unmatched");
    CHECK(late > 0);
    CHECK(duplicates > 0);
    CHECK(errors > 0);
    CHECK(probe.stats().unmatched > 0);
    CHECK(probe.stats().late >= static_cast<std::uint64_t>(late));
    CHECK(probe.rounds_in_flight() == 0);
    CHECK_MESSAGE(wire.misuse().empty(), wire.misuse_text());
}

}  // namespace

TEST_CASE("icmp rounds: randomised exchanges on one shared ping socket") {
    for (std::uint32_t seed : {1u, 2u, 3u})
        run(seed);
}

TEST_CASE("icmp: an unknown device is an error that names it, and nothing is sent") {
    FakeWire wire;
    int sent = 0;
    wire.on_send = [&](const FakeWire::Sent&) { ++sent; };
    IcmpProbe probe(wire);
    ProbeRequest req;
    req.destination = *IpAddress::parse("192.0.2.1");
    req.timeout = 500ms;
    req.params = IcmpParams{};
    req.set_send().device = "wan9";
    std::optional<ProbeResult> got;
    probe.start(req, [&](ProbeResult r) { got = std::move(r); });
    wire.run_until_idle(2s);
    REQUIRE(got);
    CHECK(got->outcome == Outcome::error);
    CHECK(got->detail.find("device 'wan9'") != std::string::npos);
    CHECK(sent == 0);
}
