// The idle probe's sessions on a fake wire, without root and in virtual time: twelve hours of
// polls a minute against targets behind stateful devices that forget an idle session after a
// time of their own, silently or with a reset, beside servers that close idle sessions
// themselves, greet with a banner, refuse, never answer the SYN, or sit behind a router with no
// route. The kernel's keepalive runs in the fake as Linux runs it. Each target's search must
// end with the device's timeout between its bounds, within the search's 20%, and every poll
// must be answered once.
#include <doctest/doctest.h>
#include <time.h>

#include <linux/errqueue.h>
#include <netinet/in.h>

#include <cmath>
#include <map>
#include <random>

#include "probes/idle/idle_probe.hpp"
#include "tests/fake_wire.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;
using fedprobe::test::FakeWire;
using Answer = FakeWire::KeepaliveAnswer;

namespace {

enum class Connect { accept, refuse, silent, no_route };

struct Path {
    IpAddress target;
    Connect connect = Connect::accept;
    double cut_s = IdleSearch::kInf;     // the device forgets a session idle this long
    bool reset = false;                  // and says so with a RST to the keepalive
    double server_s = IdleSearch::kInf;  // the server closes a session idle this long
    bool banner = false;
    int polls = 0, results = 0;
    ProbeResult last;
};

struct Session {  // what the stateful device knows of one connection
    Path* path = nullptr;
    TimePoint seen{};
    bool forgotten = false;
};

const IpAddress kRouter = *IpAddress::parse("198.51.100.1");

void run(std::uint32_t seed) {
    CAPTURE(seed);
    std::mt19937 rng(seed);
    auto between = [&](double lo, double hi) {
        return std::uniform_real_distribution<>(lo, hi)(rng);
    };

    FakeWire wire;
    wire.fd_budget().set_limit(1000);
    std::vector<Path> paths(16);
    for (std::size_t i = 0; i < paths.size(); ++i) {
        Path& p = paths[i];
        p.target = *IpAddress::parse("192.0.2." + std::to_string(20 + i));
        // Whole seconds plus a half: a keepalive is never sent at the very instant of the cut.
        p.cut_s = std::floor(std::exp(between(std::log(40.0), std::log(7000.0)))) + 0.5;
        p.reset = i % 2 == 1;
        p.banner = i % 3 == 0;
    }
    paths[10].cut_s = IdleSearch::kInf;  // nothing forgets: the search tops out at max
    paths[11].server_s = 900.5;          // the server's own limit, below the device's
    paths[11].cut_s = 3000.5;
    paths[12].connect = Connect::refuse;
    paths[13].connect = Connect::silent;
    paths[14].connect = Connect::no_route;

    std::map<int, Session> sessions;  // by socket
    auto path_of = [&](const IpAddress& a) -> Path& {
        for (auto& p : paths)
            if (p.target == a) return p;
        FAIL("a connect to an address no path has");
        return paths[0];
    };
    wire.on_connect = [&](int fd, const IpAddress& to, std::uint16_t port) {
        CHECK(port == 2575);
        Path& p = path_of(to);
        const TimePoint at = wire.now() + 2ms;
        switch (p.connect) {
            case Connect::refuse:
                return wire.refuse(fd, ECONNREFUSED, at);
            case Connect::silent:
                return;
            case Connect::no_route: {
                QueuedError e;
                e.origin = SO_EE_ORIGIN_ICMP;
                e.type = 3;
                e.code = 1;  // host unreachable
                e.err = EHOSTUNREACH;
                e.offender = kRouter;
                return wire.deliver_error(fd, e, at);
            }
            case Connect::accept:
                break;
        }
        wire.accept(fd, at);
        sessions[fd] = Session{&p, at, false};
        if (p.banner) {
            const std::string hello = "220 ready\r\n";
            wire.deliver(fd, {hello.begin(), hello.end()}, at + 5ms);
            sessions[fd].seen = at + 5ms;
        }
        if (p.server_s < p.cut_s)
            wire.close_peer(fd, sessions[fd].seen + std::chrono::duration_cast<Duration>(
                                                        std::chrono::duration<double>(p.server_s)));
    };
    wire.on_keepalive = [&](int fd) {
        Session& s = sessions.at(fd);
        const double idle = std::chrono::duration<double>(wire.now() - s.seen).count();
        if (s.forgotten || idle >= s.path->cut_s) {
            s.forgotten = true;
            return s.path->reset ? Answer::reset : Answer::none;
        }
        s.seen = wire.now();
        return Answer::ack;
    };

    auto probe = std::make_unique<IdleProbe>(wire);
    IdleParams params;
    params.min = 30s;
    params.max = 7200s;
    params.sessions = 3;
    auto request = [&](const Path& p) {
        ProbeRequest req;
        req.destination = p.target;
        req.port = 2575;
        req.timeout = 2s;
        req.params = params;
        return req;
    };
    std::size_t most_open = 0;
    for (int minute = 0; minute < 12 * 60; ++minute) {
        for (Path& p : paths) {
            ++p.polls;
            probe->start(request(p), [&p, &most_open](ProbeResult r) {
                ++p.results;
                most_open = std::max<std::size_t>(most_open, r.as<IdleKind>()->sessions_open);
                p.last = std::move(r);
            });
        }
        wire.run_until(wire.now() + 60s);
    }

    for (const Path& p : paths) {
        CAPTURE(p.target.str());
        CHECK(p.results == p.polls);  // every poll answered, once
        const ProbeResult& r = p.last;
        const IdleResult& k = *r.as<IdleKind>();
        INFO("cut " << p.cut_s << " s (" << std::string(p.reset ? "reset" : "silent")
                    << "), bounds " << k.lower << " .. " << k.upper << ", converged " << k.converged
                    << ", cuts " << k.cuts[0] << "/" << k.cuts[1] << "/" << k.cuts[2] << "; "
                    << r.detail);
        switch (p.connect) {
            case Connect::refuse:
                CHECK(r.outcome == Outcome::refused);
                CHECK(r.reporter == p.target);
                CHECK(k.sessions_open <= 1);
                continue;
            case Connect::silent:
                CHECK(r.outcome == Outcome::filtered);
                CHECK(r.duration == 2s);
                continue;
            case Connect::no_route:
                CHECK(r.outcome == Outcome::unreachable);
                CHECK(r.reporter == kRouter);
                continue;
            case Connect::accept:
                break;
        }
        CHECK(r.outcome == Outcome::ok);
        CHECK(r.duration == 2ms);
        if (p.server_s < p.cut_s) {
            // The server's limit is found and the search stays below it.
            CHECK(k.cuts[static_cast<std::size_t>(IdleCut::server_closed)] > 0);
            CHECK(k.upper == IdleSearch::kInf);
            CHECK(k.lower < p.server_s);
            continue;
        }
        CHECK(k.converged);
        if (p.cut_s == IdleSearch::kInf) {
            CHECK(k.lower == 7200);
            CHECK(k.upper == IdleSearch::kInf);
            continue;
        }
        MESSAGE(p.target.str() << ": cut at " << p.cut_s << " s ("
                               << std::string(p.reset ? "reset" : "silent") << "), found between "
                               << k.lower << " and " << k.upper << " s");
        CHECK(k.lower < p.cut_s);
        CHECK(p.cut_s <= k.upper);
        CHECK((k.upper <= k.lower * 1.2 || k.upper - k.lower <= 1.0));
        const IdleCut how = p.reset ? IdleCut::reset : IdleCut::silence;
        CHECK(k.cuts[static_cast<std::size_t>(how)] > 0);
        CHECK(k.cuts[static_cast<std::size_t>(p.reset ? IdleCut::silence : IdleCut::reset)] == 0);
    }
    CHECK(most_open <= 3);
    probe.reset();  // closes every session
    CHECK(wire.open_sockets() == 0);
    CHECK(wire.fd_budget().in_use() == 0);
    CHECK_MESSAGE(wire.misuse().empty(), wire.misuse_text());
}

}  // namespace

TEST_CASE("idle sessions: the search finds each device's timeout in twelve virtual hours") {
    for (std::uint32_t seed : {1u, 2u, 3u})
        run(seed);
}
