// The stamp probe's rounds on a fake wire, against fedprobe's own reflector logic
// (StampReflector::reflect), without root or a packet sent: sessions of many rounds through a
// network that loses test packets on the way out and replies on the way back, delays each
// direction at random (so replies overtake each other and some come after their round), sends
// duplicates and garbage, and sometimes translates the sender's address. The way out keeps the
// order: the reflector's count (RFC 8972's stateful mode) says nothing sure when it does not. Each
// round's count and round-trip times are checked against the packets' scripted fates, and each
// session's forward and backward loss, summed over its rounds, against what the network really
// dropped.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "core/event_loop.hpp"
#include "probes/stamp/stamp_probe.hpp"
#include "probes/stamp/stamp_reflector.hpp"
#include "tests/fake_wire.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;
using fedprobe::test::FakeWire;

namespace {

struct Fate {
    std::int64_t sent_wall = 0;
    TimePoint sent{};
    bool forward_lost = false, backward_lost = false;
    std::optional<TimePoint> reply_at;  // its first copy's arrival
    std::int64_t dwell_ns = 0;
};

struct Session {
    IpAddress target;
    bool translated = false;              // the reflector sees another source
    std::map<std::uint32_t, Fate> fates;  // by sender sequence
    // Per round: its first sequence number, its packets, when it ended and its result.
    struct Round {
        std::uint32_t first = 0;
        int packets = 0;
        Duration timeout{};
        std::optional<ProbeResult> result;
        TimePoint finished{};
    };
    std::vector<Round> rounds;
    bool lossy = true;   // the network's mood for the current round
    Duration timeout{};  // the current round's
};

void run(std::uint32_t seed) {
    CAPTURE(seed);
    std::mt19937 rng(seed);
    auto chance = [&](double p) { return std::uniform_real_distribution<>(0, 1)(rng) < p; };
    auto micros = [&](int lo_ms, int hi_ms) {
        return std::chrono::microseconds(
            std::uniform_int_distribution<int>(lo_ms * 1000, hi_ms * 1000)(rng));
    };

    FakeWire wire;
    EventLoop unused;  // the reflector's, never run: reflect() is called directly
    StampReflectorSettings settings;
    settings.allow = {*Prefix::parse("10.0.0.0/8"), *Prefix::parse("203.0.113.0/24")};
    settings.rate_limit = 1e9;
    StampReflector reflector(unused, settings);

    constexpr int kSessions = 6;
    std::vector<Session> sessions(kSessions);
    for (int i = 0; i < kSessions; ++i) {
        sessions[i].target = *IpAddress::parse("192.0.2." + std::to_string(10 + i));
        sessions[i].translated = i % 3 == 2;
    }
    auto session_of = [&](const IpAddress& a) -> Session& {
        for (auto& s : sessions)
            if (s.target == a) return s;
        FAIL("a packet to an address no session has");
        return sessions[0];
    };
    std::uint64_t garbage = 0;

    wire.on_send = [&](const FakeWire::Sent& sent) {
        Session& s = session_of(sent.to);
        StampSenderPacket test;
        REQUIRE(decode(sent.bytes, nullptr, test) == StampParse::ok);
        Fate& f = s.fates[test.seq];
        f.sent_wall = wire.wall_ns();
        f.sent = sent.at;
        if (s.lossy && chance(0.15)) {
            f.forward_lost = true;
            return;
        }
        // The way out keeps the packets' order (they are spaced further apart than its
        // jitter); the way back overtakes at times, and at times answers after the round.
        const Duration forward = micros(0, 1) + 100us;
        Duration back = micros(0, 1) + 100us;
        if (chance(0.2)) back = micros(1, 60);
        if (s.lossy && chance(0.05)) back = s.timeout + micros(1, 100);
        f.dwell_ns = std::uniform_int_distribution<int>(0, 50'000)(rng);
        const auto local = wire.local_endpoint(sent.fd);
        StampArrival in;
        in.data = sent.bytes;
        in.from = s.translated ? *IpAddress::parse("203.0.113.5") : local->address;
        in.from_port = s.translated ? 4444 : local->port;
        in.to = sent.to;
        in.to_port = sent.port;
        in.ttl = 60;
        in.rx_ns =
            f.sent_wall + std::chrono::duration_cast<std::chrono::nanoseconds>(forward).count();
        // Its clock for the rate limit and sessions must not go back: the send time's, in order.
        auto reply = reflector.reflect(in, sent.at);
        REQUIRE(reply);
        // T3 as the script says: the reflector stamps its own wall clock, not the fake's.
        StampReflectorPacket r;
        REQUIRE(decode(reply->bytes, nullptr, r) == StampParse::ok);
        r.timestamp = stamp_timestamp(in.rx_ns + f.dwell_ns, false);
        const auto bytes = encode(r, nullptr);
        if (s.lossy && chance(0.15)) {
            f.backward_lost = true;
            return;
        }
        f.reply_at = sent.at + forward + std::chrono::nanoseconds(f.dwell_ns) + back;
        wire.deliver(sent.fd, bytes, *f.reply_at);
        if (chance(0.1)) wire.deliver(sent.fd, bytes, *f.reply_at + micros(0, 300));
        if (chance(0.05)) {
            wire.deliver(sent.fd, {0xde, 0xad, 0xbe, 0xef}, *f.reply_at - micros(0, 1));
            ++garbage;
        }
    };

    StampProbe probe(wire);
    auto start_round = [&](int i, bool last) {
        Session& s = sessions[static_cast<std::size_t>(i)];
        s.lossy = !last;
        ProbeRequest req;
        req.destination = s.target;
        req.port = 862;
        req.timeout = std::chrono::duration_cast<Duration>(micros(150, 700));
        StampParams p;
        p.packets = std::uniform_int_distribution<int>(1, 12)(rng);
        p.spacing = std::chrono::duration_cast<Duration>(micros(1, 30));
        p.ssid = 100 + i;
        req.params = p;
        Session::Round round;
        round.first = static_cast<std::uint32_t>(s.fates.size());
        round.packets = p.packets;
        round.timeout = req.timeout;
        s.rounds.push_back(round);
        s.timeout = req.timeout;
        const std::size_t index = s.rounds.size() - 1;
        probe.start(req, [&s, index, &wire](ProbeResult r) {
            REQUIRE(!s.rounds[index].result);  // one verdict per round
            s.rounds[index].result = std::move(r);
            s.rounds[index].finished = wire.now();
        });
    };
    // Forty rounds a session, each begun a random pause after the one before it ended; the
    // last without loss, so that every loss before it is attributed by its end.
    constexpr int kRounds = 40;
    for (int round = 0; round < kRounds; ++round) {
        for (int i = 0; i < kSessions; ++i)
            start_round(i, round == kRounds - 1);
        wire.run_until_idle(10s);
        wire.run_until(wire.now() + micros(0, 500));
    }
    wire.run_until_idle(10s);

    int late = 0, overtaken = 0;
    for (Session& s : sessions) {
        std::uint64_t forward_lost = 0, backward_lost = 0, truly_forward = 0, truly_backward = 0;
        for (const Session::Round& round : s.rounds) {
            REQUIRE(round.result);
            const ProbeResult& res = *round.result;
            const StampResult* k = res.as<StampKind>();
            REQUIRE(k);
            CHECK(k->sent == static_cast<std::uint32_t>(round.packets));
            // In time: a reply that came before the round ended. The round ends at its last
            // reply when every packet has one, else the timeout after its last packet.
            TimePoint last_sent{}, last_reply{};
            bool all = true;
            std::vector<double> want_rtt;
            for (std::uint32_t q = round.first; q < round.first + round.packets; ++q) {
                const Fate& f = s.fates.at(q);
                last_sent = std::max(last_sent, f.sent);
                if (f.reply_at && *f.reply_at <= round.finished) {
                    want_rtt.push_back(std::chrono::duration<double>(*f.reply_at - f.sent).count() -
                                       static_cast<double>(f.dwell_ns) * 1e-9);
                    last_reply = std::max(last_reply, *f.reply_at);
                } else {
                    all = false;
                }
                truly_forward += f.forward_lost;
                late += f.reply_at && *f.reply_at > round.finished;
                if (q > round.first) {
                    const Fate& before = s.fates.at(q - 1);
                    overtaken += f.reply_at && before.reply_at && *f.reply_at < *before.reply_at;
                }
                // The reflector answered it, and the round did not count the answer.
                truly_backward += !f.forward_lost && !(f.reply_at && *f.reply_at <= round.finished);
            }
            CHECK(round.finished == (all ? last_reply : last_sent + round.timeout));
            CHECK(k->received == want_rtt.size());
            std::vector<double> got = k->rtt;
            std::sort(got.begin(), got.end());
            std::sort(want_rtt.begin(), want_rtt.end());
            REQUIRE(got.size() == want_rtt.size());
            for (std::size_t j = 0; j < got.size(); ++j)
                CHECK(std::abs(got[j] - want_rtt[j]) < 1e-6);
            CHECK(res.outcome == (want_rtt.empty() ? Outcome::filtered : Outcome::ok));
            if (!want_rtt.empty()) {
                REQUIRE(k->translated);
                CHECK(*k->translated == s.translated);
            }
            forward_lost += k->forward_lost;
            backward_lost += k->backward_lost;
        }
        CAPTURE(s.target.str());
        CHECK(forward_lost == truly_forward);
        CHECK(backward_lost == truly_backward);
        CHECK(truly_forward > 0);
        CHECK(truly_backward > 0);
    }
    MESSAGE("seed " << seed << ": " << kSessions * kRounds << " rounds, " << overtaken
                    << " replies overtook, " << late << " came after their round, " << garbage
                    << " garbage packets");
    CHECK(overtaken > 0);
    CHECK(late > 0);
    CHECK(probe.sessions() == kSessions);
    CHECK_MESSAGE(wire.misuse().empty(), wire.misuse_text());
}

}  // namespace

TEST_CASE("stamp rounds: randomised sessions through a lossy, reordering network") {
    for (std::uint32_t seed : {1u, 2u, 3u, 4u, 5u})
        run(seed);
}
