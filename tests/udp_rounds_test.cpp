// The udp probe's rounds on a fake wire (tests/fake_wire.hpp), without root or a real packet:
// thousands of probes against a network that loses, delays, reorders and duplicates answers,
// sends ICMP errors from the target and from routers, queues errors that are not ICMP at all,
// and answers after the timeout. Each probe's verdict is checked against what its own scripted
// answers say it must be, and the descriptor budget, the timers and the sockets must all be back
// where they started. As chrony's tests randomise their exchanges.
#include <doctest/doctest.h>
#include <time.h>

#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/epoll.h>

#include <random>
#include <string>

#include "probes/udp/udp_probe.hpp"
#include "tests/fake_wire.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;
using fedprobe::test::FakeWire;

namespace {

const IpAddress kTarget = *IpAddress::parse("192.0.2.10");
const IpAddress kRouter = *IpAddress::parse("198.51.100.1");

// What the network does with one probe's datagram, in milliseconds after it was sent.
struct Script {
    std::optional<int> reply_ms;          // the target's reply
    int duplicates = 0;                   // more copies of it, later
    std::string reply = "pong";           // what the reply says
    std::optional<int> icmp_ms;           // an ICMP error about the datagram
    std::uint8_t icmp_code = 3;           // 3 port (from the target), 0 net, 13 prohibited
    std::optional<int> foreign_error_ms;  // a queued error that is no ICMP (a local one)
    int send_errno = 0;                   // the send itself fails
};

struct Planned {
    Script script;
    int timeout_ms = 0;
    std::string expect;
    TimePoint admitted{};
    std::optional<TimePoint> sent;
    int results = 0;
    ProbeResult result;
    TimePoint finished{};
};

QueuedError icmp_error(std::uint8_t code) {
    QueuedError e;
    e.origin = SO_EE_ORIGIN_ICMP;
    e.type = 3;  // destination unreachable
    e.code = code;
    e.err = code == 3 ? ECONNREFUSED : code == 13 ? EACCES : ENETUNREACH;
    e.offender = code == 3 ? kTarget : kRouter;
    return e;
}

// The verdict a probe must get from its script, given that it was sent.
void check_verdict(const Planned& p) {
    const Script& s = p.script;
    INFO("timeout " << p.timeout_ms << " ms, reply " << (s.reply_ms ? *s.reply_ms : -1) << ", icmp "
                    << (s.icmp_ms ? *s.icmp_ms : -1) << " code " << int(s.icmp_code)
                    << ", send errno " << s.send_errno << ", detail " << p.result.detail);
    const ProbeResult& r = p.result;
    CHECK(!r.overload);
    if (s.send_errno) {
        CHECK(r.outcome == Outcome::unreachable);
        return;
    }
    const bool reply_in_time = s.reply_ms && *s.reply_ms < p.timeout_ms;
    const bool icmp_in_time = s.icmp_ms && *s.icmp_ms < p.timeout_ms;
    if (reply_in_time && (!icmp_in_time || *s.reply_ms < *s.icmp_ms)) {
        const bool matches = p.expect.empty() || s.reply.rfind("pong", 0) == 0;
        CHECK(r.outcome == (matches ? Outcome::ok : Outcome::mismatch));
        CHECK(!r.reporter);
        CHECK(r.duration == std::chrono::milliseconds(*s.reply_ms));
    } else if (icmp_in_time) {
        const Outcome want = s.icmp_code == 3    ? Outcome::refused
                             : s.icmp_code == 13 ? Outcome::prohibited
                                                 : Outcome::unreachable;
        CHECK(r.outcome == want);
        REQUIRE(r.reporter);
        CHECK(*r.reporter == (s.icmp_code == 3 ? kTarget : kRouter));
        CHECK(r.duration == std::chrono::milliseconds(*s.icmp_ms));
    } else {
        CHECK(r.outcome == Outcome::filtered);
        CHECK(r.duration == std::chrono::milliseconds(p.timeout_ms));
    }
}

// Runs `count` probes with scripts drawn from `seed` over a budget of `budget` descriptors.
void run(std::uint32_t seed, int count, std::size_t budget) {
    CAPTURE(seed);
    std::mt19937 rng(seed);
    auto chance = [&](double p) { return std::uniform_real_distribution<>(0, 1)(rng) < p; };
    auto between = [&](int lo, int hi) { return std::uniform_int_distribution<>(lo, hi)(rng); };

    FakeWire wire;
    wire.fd_budget().set_limit(budget);
    std::vector<Planned> probes(static_cast<std::size_t>(count));
    // The network knows a probe by its payload, "probe N".
    auto index_of = [&](const FakeWire::Sent& s) {
        const std::string text(s.bytes.begin(), s.bytes.end());
        REQUIRE(text.rfind("probe ", 0) == 0);
        return std::stoul(text.substr(6));
    };
    wire.send_errno = [&](const FakeWire::Sent& s) {
        Planned& p = probes[index_of(s)];
        if (p.script.send_errno) p.sent = s.at;  // tried: its verdict is the send's error
        return p.script.send_errno;
    };
    std::uint64_t delivered = 0;
    wire.on_send = [&](const FakeWire::Sent& s) {
        Planned& p = probes[index_of(s)];
        CHECK(!p.sent);  // one datagram per probe
        p.sent = s.at;
        CHECK(s.type == SOCK_DGRAM);
        CHECK(s.to == kTarget);
        CHECK(s.port == 7);
        const Script& sc = p.script;
        auto at = [&](int ms) { return s.at + std::chrono::milliseconds(ms); };
        if (sc.reply_ms) {
            std::vector<std::uint8_t> reply(sc.reply.begin(), sc.reply.end());
            wire.deliver(s.fd, reply, at(*sc.reply_ms));
            for (int d = 1; d <= sc.duplicates; ++d)
                wire.deliver(s.fd, reply, at(*sc.reply_ms + d * between(0, 50)));
            ++delivered;
        }
        if (sc.icmp_ms) wire.deliver_error(s.fd, icmp_error(sc.icmp_code), at(*sc.icmp_ms));
        if (sc.foreign_error_ms) {
            QueuedError local;
            local.origin = SO_EE_ORIGIN_LOCAL;
            local.err = EMSGSIZE;
            wire.deliver_error(s.fd, local, at(*sc.foreign_error_ms));
        }
    };

    UdpProbe probe(wire);
    // Times in whole milliseconds, and no answer within 2 ms of a deadline or of another answer,
    // so that the verdict the script implies is the only one.
    auto answer_ms = [&](int timeout) {
        for (;;) {
            int ms = between(0, timeout * 2);
            if (std::abs(ms - timeout) > 2) return ms;
        }
    };
    TimePoint t = wire.now();
    for (int i = 0; i < count; ++i) {
        Planned& p = probes[static_cast<std::size_t>(i)];
        p.timeout_ms = between(50, 1000);
        Script& s = p.script;
        if (chance(0.6)) s.reply_ms = answer_ms(p.timeout_ms);
        if (chance(0.15)) s.duplicates = between(1, 3);
        if (chance(0.25)) {
            s.icmp_ms = answer_ms(p.timeout_ms);
            s.icmp_code =
                std::array<std::uint8_t, 3>{3, 0, 13}[static_cast<std::size_t>(between(0, 2))];
        }
        if (s.reply_ms && s.icmp_ms && std::abs(*s.reply_ms - *s.icmp_ms) <= 2) s.icmp_ms.reset();
        if (chance(0.1)) s.foreign_error_ms = answer_ms(p.timeout_ms);
        if (chance(0.02)) s.send_errno = EHOSTUNREACH;
        if (chance(0.3)) {
            p.expect = "^pong";
            if (chance(0.5)) s.reply = "nope";
        }
        ProbeRequest req;
        req.destination = kTarget;
        req.port = 7;
        req.timeout = std::chrono::milliseconds(p.timeout_ms);
        req.params = UdpParams{"probe " + std::to_string(i), p.expect};
        // Probes arrive a few at a time: the budget fills, and some wait for a socket.
        t += std::chrono::milliseconds(between(0, 3));
        wire.run_until(t);
        p.admitted = wire.now();
        probe.start(req, [&wire, &p](ProbeResult r) {
            ++p.results;
            p.result = std::move(r);
            p.finished = wire.now();
        });
    }
    wire.run_until_idle(1h);

    int queued = 0, sent = 0, waited_then_sent = 0;
    for (const Planned& p : probes) {
        REQUIRE(p.results == 1);  // exactly one verdict each
        if (p.sent) {
            ++sent;
            if (*p.sent > p.admitted) ++waited_then_sent;
            check_verdict(p);
            CHECK(p.finished >= *p.sent);
        } else if (p.result.overload) {
            // It waited for a descriptor until its timeout: the prober's limit, never the network.
            ++queued;
            CHECK(*p.result.overload == Overload::queued);
            CHECK(p.finished == p.admitted + std::chrono::milliseconds(p.timeout_ms));
        } else {
            FAIL("a probe that never sent and was not queued: " << p.result.detail);
        }
    }
    MESSAGE("seed " << seed << ": " << sent << " sent (" << waited_then_sent
                    << " after waiting for a socket), " << queued << " waited out their timeout, "
                    << wire.dropped_on_closed() << " answers reached closed sockets");
    CHECK(wire.dropped_on_closed() > 0);  // late answers and duplicates did happen
    if (budget < 64) {
        CHECK(queued > 0);
        CHECK(waited_then_sent > 0);
        CHECK(sent > static_cast<int>(budget));
    } else {
        CHECK(sent == count);
    }
    CHECK(wire.open_sockets() == 0);
    CHECK(wire.fd_budget().in_use() == 0);
    CHECK(wire.pending_timers() == 0);
    CHECK(probe.in_flight() == 0);
    CHECK_MESSAGE(wire.misuse().empty(), wire.misuse_text());
}

}  // namespace

TEST_CASE("udp rounds: randomised exchanges with a roomy descriptor budget") {
    for (std::uint32_t seed : {1u, 2u, 3u})
        run(seed, 3000, 4096);
}

TEST_CASE("udp rounds: randomised exchanges that queue for descriptors") {
    for (std::uint32_t seed : {11u, 12u, 13u})
        run(seed, 3000, 40);
}

TEST_CASE("udp: a socket that cannot be opened is an error with the reason, and costs nothing") {
    FakeWire wire;
    wire.open_errno = [](int, int) { return ENOBUFS; };
    UdpProbe probe(wire);
    ProbeRequest req;
    req.destination = kTarget;
    req.port = 7;
    req.timeout = 200ms;
    req.params = UdpParams{};
    std::optional<ProbeResult> got;
    probe.start(req, [&](ProbeResult r) { got = std::move(r); });
    CHECK(!got);  // never inside start()
    wire.run_until_idle(1s);
    REQUIRE(got);
    CHECK(got->outcome == Outcome::error);
    CHECK(got->detail.find("No buffer space") != std::string::npos);
    CHECK(wire.fd_budget().in_use() == 0);
    CHECK_MESSAGE(wire.misuse().empty(), wire.misuse_text());
}

TEST_CASE("udp: EMFILE shrinks the budget and the probe waits for a socket, then runs") {
    FakeWire wire;
    wire.fd_budget().set_limit(100);
    int fails = 1;
    wire.open_errno = [&](int, int) { return fails-- > 0 ? EMFILE : 0; };
    std::vector<std::uint8_t> reply{'o', 'k'};
    wire.on_send = [&](const FakeWire::Sent& s) { wire.deliver(s.fd, reply, s.at + 10ms); };
    UdpProbe probe(wire);
    ProbeRequest req;
    req.destination = kTarget;
    req.port = 7;
    req.timeout = 500ms;
    req.params = UdpParams{};
    std::vector<ProbeResult> got;
    // EMFILE: the budget shrinks to what is in use (nothing) and the probe waits, first in
    // line; with nothing of ours open no descriptor comes back, so it ends queued at its timeout.
    probe.start(req, [&](ProbeResult r) { got.push_back(std::move(r)); });
    wire.run_until_idle(1s);
    REQUIRE(got.size() == 1);
    CHECK(got[0].overload == Overload::queued);
    CHECK(wire.fd_budget().limit() == 0);
    // The operator's limit back (a reload does so): the next probe runs and is answered.
    wire.fd_budget().set_limit(100);
    probe.start(req, [&](ProbeResult r) { got.push_back(std::move(r)); });
    wire.run_until_idle(1s);
    REQUIRE(got.size() == 2);
    CHECK(got[1].outcome == Outcome::ok);
    CHECK(wire.open_sockets() == 0);
    CHECK_MESSAGE(wire.misuse().empty(), wire.misuse_text());
}
