// The path probe against real raw sockets on loopback (CI runs as root): every method on both
// IP versions, a flow that keeps its identifier, the learned window, the rate limit, and the
// reset that answers a SYN-ACK. Routers and ECMP are in tests/lab_path.sh.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "core/event_loop.hpp"
#include "probes/path/path_probe.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;

namespace {

ProbeResult run(EventLoop& loop, Probe& probe, const ProbeRequest& req) {
    std::unique_ptr<ProbeResult> got;
    probe.start(req, [&](ProbeResult r) { got = std::make_unique<ProbeResult>(std::move(r)); });
    auto deadline = loop.now() + 10s;
    while (!got && loop.now() < deadline)
        loop.run_once(100ms);
    REQUIRE(got);
    return *got;
}

ProbeRequest to(const std::string& addr, PathMethod m, std::uint16_t port = 33434) {
    ProbeRequest r;
    PathParams p;
    p.method = m;
    r.params = p;
    r.destination = *IpAddress::parse(addr);
    r.port = m == PathMethod::icmp ? 0 : port;
    r.timeout = 1s;
    return r;
}

}  // namespace

TEST_CASE("every method reaches loopback at TTL 1, on both IP versions") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    PathProbe probe(loop);
    for (const char* addr : {"127.0.0.1", "::1"})
        for (PathMethod m : {PathMethod::udp, PathMethod::icmp, PathMethod::tcp}) {
            CAPTURE(addr);
            CAPTURE(to_string(m));
            auto r = run(loop, probe, to(addr, m, m == PathMethod::tcp ? 9 : 33434));
            CHECK(r.outcome == Outcome::ok);
            const PathResult* path = r.as<PathKind>();
            REQUIRE(path != nullptr);
            REQUIRE(path->flows.size() == 1);
            const FlowTrace& t = path->flows[0];
            CHECK(t.stop == PathStop::reached);
            CHECK(t.stop_ttl == 1);
            REQUIRE(t.hops.size() == 1);
            CHECK(t.hops[0].destination);
            CHECK(t.hops[0].address == *IpAddress::parse(addr));
            CHECK(t.hops[0].rtt > Duration::zero());
            CHECK(t.hops[0].rtt < 1s);
            CHECK(path->distinct_paths == 1);
        }
    CHECK(probe.rounds_in_flight() == 0);
}

TEST_CASE("a flow keeps its identifier across rounds, and the next round sends only its TTLs") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    PathProbe probe(loop);
    auto req = to("127.0.0.1", PathMethod::udp);
    auto first = run(loop, probe, req);
    auto second = run(loop, probe, req);
    const auto* a = first.as<PathKind>();
    const auto* b = second.as<PathKind>();
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->flows[0].flow_id == b->flows[0].flow_id);
    CHECK(a->packets_sent >= 1);
    CHECK(b->packets_sent == 1);  // the destination is at TTL 1: one packet is the whole trace
    // Several flows: each its own identifier, one path on loopback.
    PathParams p = req.as<PathKind>();
    p.flows = 4;
    req.params = p;
    auto multi = run(loop, probe, req);
    const auto* m = multi.as<PathKind>();
    REQUIRE(m->flows.size() == 4);
    for (std::size_t i = 1; i < 4; ++i)
        CHECK(m->flows[i].flow_id != m->flows[0].flow_id);
    CHECK(m->flows[0].flow_id == a->flows[0].flow_id);
    CHECK(m->distinct_paths == 1);
}

TEST_CASE("packets after the first wait for the destination network's rate limit") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    PathProbe probe(loop);
    auto free_run = run(loop, probe, to("127.0.0.2", PathMethod::icmp));
    // A fresh flow sends its first window at once, answers or not.
    CHECK(free_run.as<PathKind>()->packets_sent == 8);
    auto req = to("127.0.0.3", PathMethod::icmp);
    req.pacer = std::make_shared<RateLimiter>(5.0, 1.0);
    for (int i = 0; i < 3; ++i)
        (void)req.pacer->reserve(loop.now());  // the network's budget is spent for 600 ms
    auto paced = run(loop, probe, req);
    // The first packet is the scheduler's; by the time a slot frees up the destination has
    // answered it, so nothing else goes.
    CHECK(paced.outcome == Outcome::ok);
    CHECK(paced.as<PathKind>()->packets_sent == 1);
}

// In a network namespace of its own (a child process, so the other tests keep theirs): loopback
// up and echo requests ignored, so every TTL of an icmp trace to 127.0.0.1 is silent.
bool silent_loopback() {
    if (unshare(CLONE_NEWNET) != 0) return false;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    ifreq ifr{};
    std::snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    const bool up = fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 &&
                    (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr) == 0);
    if (fd >= 0) close(fd);
    FILE* f = std::fopen("/proc/sys/net/ipv4/icmp_echo_ignore_all", "w");
    if (!f) return false;
    const bool written = std::fputs("1", f) >= 0;
    return std::fclose(f) == 0 && written && up;
}

TEST_CASE("a silent TTL's retry waiting for the rate limit goes once, and the round ends") {
    // Every TTL silent, and the destination network's budget far below the trace's packets: the
    // retries wait for slots. A retry waiting was queued again by every other TTL's deadline, so
    // under a silent fault one TTL went out 7 times a second and the round never ended.
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        int code = 10;
        if (silent_loopback()) {
            EventLoop loop;
            PathProbe probe(loop);
            ProbeRequest req = to("127.0.0.1", PathMethod::icmp);
            req.timeout = 200ms;
            req.pacer = std::make_shared<RateLimiter>(20.0, 1.0);
            std::unique_ptr<ProbeResult> got;
            if (loop.init().ok())
                probe.start(req, [&](ProbeResult r) { got = std::make_unique<ProbeResult>(r); });
            const auto deadline = loop.now() + 10s;
            while (!got && loop.now() < deadline)
                loop.run_once(100ms);
            // 8 TTLs, 2 attempts each, nothing past the gap limit, and 2 confirmations of the
            // first TTL past the routers (a destination's rate limit): 18 packets.
            code = !got                                     ? 11
                   : got->outcome != Outcome::filtered      ? 12
                   : got->as<PathKind>()->packets_sent > 18 ? 13
                   : got->as<PathKind>()->packets_sent < 18 ? 14
                   : probe.rounds_in_flight() != 0          ? 15
                                                            : 0;
            if (got) std::fprintf(stderr, "packets sent: %d\n", got->as<PathKind>()->packets_sent);
        }
        _exit(code);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    // 10: no namespace of its own; 11: the round never ended; 12: not filtered; 13: duplicates;
    // 14: retries missing; 15: a round left behind.
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE(
    "a SYN-ACK is answered with a reset: no connection is left behind, and an MTU "
    "search's SYN data never reaches the application") {
    for (bool mtu : {false, true}) {
        CAPTURE(mtu);
        int listener = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
        REQUIRE(listen(listener, 16) == 0);
        socklen_t len = sizeof sa;
        REQUIRE(getsockname(listener, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
        EventLoop loop;
        REQUIRE(loop.init().ok());
        PathProbe probe(loop);
        ProbeRequest req = to("127.0.0.1", PathMethod::tcp, ntohs(sa.sin_port));
        req.params_of<PathKind>().mtu = mtu;
        auto r = run(loop, probe, req);
        CHECK(r.outcome == Outcome::ok);
        CHECK(probe.stats().resets_sent >= (mtu ? 2u : 1u));
        if (mtu) {  // the 65,535-byte SYN was answered with a SYN-ACK, which acknowledged no data
            REQUIRE(r.as<PathKind>()->mtu.has_value());
            CHECK(r.as<PathKind>()->mtu->mtu == 65535);
        }
        // Let resets land, then nothing may wait in the accept queue.
        for (int i = 0; i < 5; ++i)
            loop.run_once(20ms);
        REQUIRE(fcntl(listener, F_SETFL, O_NONBLOCK) == 0);
        int accepted = accept(listener, nullptr, nullptr);
        CHECK(accepted < 0);
        if (accepted >= 0) close(accepted);
        close(listener);
    }
}

TEST_CASE("path.mtu: a full-size DF probe over loopback in one packet, every mtu_every-th round") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    PathProbe probe(loop);
    for (const char* addr : {"127.0.0.1", "::1"})
        for (PathMethod m : {PathMethod::udp, PathMethod::icmp, PathMethod::tcp}) {
            CAPTURE(addr);
            CAPTURE(to_string(m));
            ProbeRequest req = to(addr, m, m == PathMethod::tcp ? 9 : 33434);
            auto& params = req.params_of<PathKind>();
            params.mtu = true;
            params.mtu_every = 2;
            for (int round = 0; round < 3; ++round) {
                auto r = run(loop, probe, req);
                CAPTURE(r.detail);
                CAPTURE(round);
                CHECK(r.outcome == Outcome::ok);
                const PathResult* path = r.as<PathKind>();
                REQUIRE(path != nullptr);
                CHECK(path->mtu.has_value() == (round != 1));
                if (!path->mtu) continue;
                // Loopback's MTU is 65536; the largest IP packet is 65535.
                CHECK(path->mtu->mtu == 65535);
                CHECK(path->mtu->local_mtu == 65535);
                CHECK(path->mtu->packets == 1);
                CHECK_FALSE(path->mtu->blackhole);
            }
        }
    CHECK(probe.rounds_in_flight() == 0);
}

TEST_CASE("a second caller for the same flow shares the running round; other settings wait") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    PathProbe probe(loop);
    // 127.0.0.4 answers at TTL 1 at once; the round lasts until the loop reads its answer, long
    // enough for more starts before the next loop turn to find it running.
    auto req = to("127.0.0.4", PathMethod::udp);
    std::vector<ProbeResult> got;
    probe.start(req, [&](ProbeResult r) { got.push_back(std::move(r)); });
    probe.start(req, [&](ProbeResult r) { got.push_back(std::move(r)); });
    PathParams wider = req.as<PathKind>();
    wider.max_ttl = 12;  // same flow, other settings
    auto other = req;
    other.params = wider;
    std::vector<ProbeResult> later;  // in the order they end
    probe.start(other, [&](ProbeResult r) { later.push_back(std::move(r)); });
    CHECK(probe.rounds_in_flight() == 1);
    auto deadline = loop.now() + 10s;
    while ((got.size() < 2 || later.empty()) && loop.now() < deadline)
        loop.run_once(100ms);
    REQUIRE(got.size() == 2);
    for (const auto& r : got) {
        CHECK(r.outcome == Outcome::ok);
        REQUIRE(r.as<PathKind>());
        CHECK(r.as<PathKind>()->packets_sent == got[0].as<PathKind>()->packets_sent);
        CHECK(r.as<PathKind>()->flows[0].flow_id == got[0].as<PathKind>()->flows[0].flow_id);
    }
    // The other settings waited for the shared round, then ran their own: the learned window,
    // one packet, and the same flow.
    REQUIRE(later.size() == 1);
    CHECK(later[0].outcome == Outcome::ok);
    REQUIRE(later[0].as<PathKind>());
    CHECK(later[0].as<PathKind>()->packets_sent == 1);
    CHECK(later[0].as<PathKind>()->flows[0].flow_id == got[0].as<PathKind>()->flows[0].flow_id);
    CHECK(probe.rounds_in_flight() == 0);
}

TEST_CASE("a fresh caller never takes a round of its flow that began before it asked") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    PathProbe probe(loop);
    auto req = to("127.0.0.5", PathMethod::udp);
    auto fresh = req;
    PathParams p = req.as<PathKind>();
    p.fresh = true;
    fresh.params = p;
    std::vector<std::pair<std::string, ProbeResult>> ended;
    auto note = [&](std::string who) {
        return [&ended, who](ProbeResult r) { ended.emplace_back(who, std::move(r)); };
    };
    probe.start(req, note("job"));
    // The loop has not run since, so the job's round is still running (any answer unread),
    // and the clock has moved on.
    std::this_thread::sleep_for(2ms);
    probe.start(fresh, note("trace"));      // waits for it, then runs its own
    probe.start(req, note("another job"));  // not fresh: the running round answers it
    CHECK(probe.rounds_in_flight() == 1);
    auto deadline = loop.now() + 10s;
    while (ended.size() < 3 && loop.now() < deadline)
        loop.run_once(100ms);
    REQUIRE(ended.size() == 3);
    std::vector<std::string> order;
    for (const auto& entry : ended) {
        const std::string& who = entry.first;  // not a structured binding: CAPTURE is a lambda
        const auto& r = entry.second;
        CAPTURE(who);
        CHECK(r.outcome == Outcome::ok);
        order.push_back(who);
    }
    CHECK(order == std::vector<std::string>{"another job", "job", "trace"});
    // The first round sent its first TTLs; the trace's own round only the learned one.
    CHECK(ended[1].second.as<PathKind>()->packets_sent > 1);
    CHECK(ended[2].second.as<PathKind>()->packets_sent == 1);
    CHECK(probe.rounds_in_flight() == 0);
}
