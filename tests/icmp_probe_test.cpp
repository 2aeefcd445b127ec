// The ICMP engine against loopback, where every 127/8 address answers ping.
#include <doctest/doctest.h>

// linux/icmp.h for ICMP_FILTER; net/if.h first, or linux/if.h's definitions clash.
#include <net/if.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/icmp.h>
#include <netinet/ip.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <thread>

#include "core/event_loop.hpp"
#include "probes/icmp/icmp_probe.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;

namespace {

ProbeRequest ping(const std::string& addr, int packets = 3) {
    ProbeRequest r;
    r.destination = *IpAddress::parse(addr);
    r.timeout = 1s;
    IcmpParams icmp;
    icmp.packets = packets;
    icmp.spacing = 1ms;
    r.params = icmp;
    return r;
}

std::vector<ProbeResult> run_all(EventLoop& loop, IcmpProbe& probe,
                                 const std::vector<ProbeRequest>& reqs) {
    std::vector<ProbeResult> results;
    for (const auto& r : reqs)
        probe.start(r, [&](ProbeResult res) { results.push_back(res); });
    auto deadline = loop.now() + 10s;
    while (results.size() < reqs.size() && loop.now() < deadline)
        loop.run_once(100ms);
    REQUIRE(results.size() == reqs.size());
    return results;
}

const IcmpResult& icmp_of(const ProbeResult& r) {
    REQUIRE(r.as<IcmpKind>());
    return *r.as<IcmpKind>();
}

// A round of 3 echoes to each address, DF on (small payload) and off (big payload) in turn, all
// at once: every one answered 3 times, none twice.
void check_rounds_with_df_on_and_off(EventLoop& loop, IcmpProbe& probe,
                                     const std::vector<std::string>& to) {
    std::vector<ProbeRequest> reqs;
    for (std::size_t i = 0; i < to.size(); ++i) {
        auto req = ping(to[i], 3);
        IcmpParams icmp = req.as<IcmpKind>();
        icmp.dont_fragment = i % 2 == 0;
        icmp.payload_bytes = i % 2 == 0 ? 56 : 1000;
        req.params = icmp;
        reqs.push_back(req);
    }
    for (const auto& r : run_all(loop, probe, reqs)) {
        CHECK(r.outcome == Outcome::ok);
        CHECK(icmp_of(r).packets_received == 3);
        CHECK(icmp_of(r).duplicates == 0);
    }
}

}  // namespace

TEST_CASE("a round to a loopback address: every packet answered, kernel-stamped RTTs") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    IcmpProbe probe(loop);
    auto r = run_all(loop, probe, {ping("127.0.0.1", 5)}).at(0);
    CHECK(r.outcome == Outcome::ok);
    CHECK(icmp_of(r).packets_sent == 5);
    CHECK(icmp_of(r).packets_received == 5);
    CHECK(icmp_of(r).duplicates == 0);
    REQUIRE(icmp_of(r).rtts.size() == 5);
    for (auto rtt : icmp_of(r).rtts) {
        CHECK(rtt > 0ns);
        CHECK(rtt < 100ms);
    }
    CHECK(probe.rounds_in_flight() == 0);
    CHECK((probe.socket_kind(AF_INET) == "raw" || probe.socket_kind(AF_INET) == "ping"));
}

TEST_CASE("one shared socket serves a thousand targets, each matched to its own round") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    IcmpProbe probe(loop);
    std::vector<ProbeRequest> reqs;
    for (int i = 1; i <= 1000; ++i)
        reqs.push_back(
            ping("127.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1), 1));
    auto results = run_all(loop, probe, reqs);
    int ok = 0;
    for (const auto& r : results)
        ok += r.outcome == Outcome::ok && icmp_of(r).packets_received == 1;
    CHECK(ok == 1000);
    CHECK(probe.stats().unmatched == 0);
    CHECK(probe.stats().late == 0);
}

TEST_CASE("DF, TTL, DSCP and a big payload still get answers") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    IcmpProbe probe(loop);
    auto req = ping("127.0.0.2", 2);
    IcmpParams icmp = req.as<IcmpKind>();
    icmp.dont_fragment = true;
    icmp.ttl = 5;
    icmp.payload_bytes = 1400;
    req.params = icmp;
    req.set_send().dscp = 46;
    auto r = run_all(loop, probe, {req}).at(0);
    CHECK(r.outcome == Outcome::ok);
    CHECK(icmp_of(r).packets_received == 2);
}

TEST_CASE("echoes with and without DF at once: each reply is read once, never a duplicate") {
    // Raw sockets (as root) get a copy of every ICMP message each: one socket per DF setting
    // that also read would see each reply twice, a false duplicate and then a false late one.
    EventLoop loop;
    REQUIRE(loop.init().ok());
    IcmpProbe probe(loop);
    std::vector<std::string> to;
    for (int i = 0; i < 20; ++i)
        to.push_back("127.0.3." + std::to_string(i + 1));
    check_rounds_with_df_on_and_off(loop, probe, to);
    // Copies read after their rounds ended would count as late.
    const auto until = loop.now() + 200ms;
    while (loop.now() < until)
        loop.run_once(20ms);
    CHECK(probe.stats().duplicates == 0);
    CHECK(probe.stats().late == 0);
    CHECK(probe.stats().unmatched == 0);
    CHECK(probe.socket_kind(AF_INET) == "raw");  // the suite runs as root: the case above
}

namespace {

// The IPv4 flags of the echo request a round sends to `to`, read off loopback by a raw socket
// that sees only echo requests: 0x4000 is DF.
std::uint16_t flags_on_the_wire(const std::string& to, std::optional<bool> df, int payload) {
    int tap = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
    REQUIRE(tap >= 0);  // the suite runs as root
    icmp_filter only_requests{~(1u << ICMP_ECHO)};
    REQUIRE(setsockopt(tap, SOL_RAW, ICMP_FILTER, &only_requests, sizeof only_requests) == 0);
    EventLoop loop;
    REQUIRE(loop.init().ok());
    IcmpProbe probe(loop);
    auto req = ping(to, 1);
    IcmpParams icmp = req.as<IcmpKind>();
    icmp.dont_fragment = df;
    icmp.payload_bytes = payload;
    req.params = icmp;
    CHECK(run_all(loop, probe, {req}).at(0).outcome == Outcome::ok);
    std::optional<std::uint16_t> flags;
    std::uint8_t buf[2048];
    for (ssize_t n; (n = recv(tap, buf, sizeof buf, 0)) > 0;) {
        iphdr ip;
        std::memcpy(&ip, buf, sizeof ip);
        if (static_cast<std::size_t>(n) >= sizeof ip && ip.daddr == inet_addr(to.c_str()))
            flags = ntohs(ip.frag_off) & 0xe000;
    }
    close(tap);
    REQUIRE(flags.has_value());
    return *flags;
}

}  // namespace

TEST_CASE("DF: on small IPv4 echoes unless asked otherwise, off on big ones unless asked") {
    CHECK(flags_on_the_wire("127.0.0.31", std::nullopt, 56) == 0x4000);
    CHECK(flags_on_the_wire("127.0.0.32", std::nullopt, 548) == 0x4000);  // 576 bytes in all
    CHECK(flags_on_the_wire("127.0.0.33", std::nullopt, 549) == 0);
    CHECK(flags_on_the_wire("127.0.0.34", false, 56) == 0);
    CHECK(flags_on_the_wire("127.0.0.35", true, 1400) == 0x4000);
    IcmpParams icmp;
    CHECK(sends_dont_fragment(icmp, AF_INET));
    CHECK_FALSE(sends_dont_fragment(icmp, AF_INET6));  // routers never fragment IPv6
    icmp.dont_fragment = true;
    CHECK(sends_dont_fragment(icmp, AF_INET6));
}

TEST_CASE("IPv6 loopback") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    IcmpProbe probe(loop);
    auto r = run_all(loop, probe, {ping("::1", 2)}).at(0);
    CHECK(r.outcome == Outcome::ok);
    CHECK(icmp_of(r).packets_received == 2);
}

TEST_CASE("a source address that is not ours is a local error, not loss") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    IcmpProbe probe(loop);
    auto req = ping("127.0.0.1", 1);
    req.set_send().source = IpAddress::parse("192.0.2.55");
    auto r = run_all(loop, probe, {req}).at(0);
    CHECK(r.outcome == Outcome::error);
    CHECK(r.detail == "source address 192.0.2.55 is not on this host");
    CHECK(!r.reporter);
    CHECK(icmp_of(r).packets_sent == 0);
}

TEST_CASE("requests wait for the loop to send them in a batch; the RTT counts from the send") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    IcmpProbe probe(loop);
    std::vector<ProbeResult> results;
    for (int i = 1; i <= 3; ++i)
        probe.start(ping("127.0.0." + std::to_string(i), 1),
                    [&](ProbeResult r) { results.push_back(std::move(r)); });
    // A long dispatch: nothing has been sent yet, so nothing can have come back.
    std::this_thread::sleep_for(50ms);
    loop.drain();  // what the engine does between stretches of starts: send, then read
    REQUIRE(results.size() == 3);
    for (const auto& r : results) {
        CHECK(r.outcome == Outcome::ok);
        REQUIRE(icmp_of(r).rtts.size() == 1);
        CHECK(icmp_of(r).rtts[0] < 20ms);  // not the 50 ms the request waited in the queue
    }
}

namespace {

// This process in a network namespace of its own, with lo up and echo answers switched by
// echo_ignore(); back in the test runner's namespace when it goes out of scope. Nothing else
// on the host sees the namespace, and it is gone with its last socket.
class SilentNamespace {
  public:
    SilentNamespace() {
        home_ = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        REQUIRE(home_ >= 0);
        REQUIRE(unshare(CLONE_NEWNET) == 0);  // the suite runs as root
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd >= 0);
        ifreq ifr{};
        std::strcpy(ifr.ifr_name, "lo");
        REQUIRE(ioctl(fd, SIOCGIFFLAGS, &ifr) == 0);
        ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
        REQUIRE(ioctl(fd, SIOCSIFFLAGS, &ifr) == 0);
        close(fd);
    }
    ~SilentNamespace() {
        (void)setns(home_, CLONE_NEWNET);
        close(home_);
    }
    void echo_ignore(bool on) { set("/proc/sys/net/ipv4/icmp_echo_ignore_all", on ? "1" : "0"); }
    // Which groups may open ping sockets, in this namespace only: "0 0" lets root.
    void ping_group_range(const char* range) { set("/proc/sys/net/ipv4/ping_group_range", range); }

  private:
    int home_ = -1;

    static void set(const char* path, const char* value) {
        FILE* f = std::fopen(path, "w");
        REQUIRE(f);
        std::fputs(value, f);
        REQUIRE(std::fclose(f) == 0);
    }
};

}  // namespace

TEST_CASE("ping sockets: echoes with and without DF answered once each; raw ones later refused") {
    // The suite runs as root, so every other case here uses raw sockets; this one lets root
    // open ping sockets, as an unprivileged daemon would, in a namespace of its own.
    SilentNamespace ns;
    ns.ping_group_range("0 0");
    EventLoop loop;
    REQUIRE(loop.init().ok());
    IcmpProbe probe(loop);
    check_rounds_with_df_on_and_off(loop, probe,
                                    {"127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.1"});
    CHECK(probe.socket_kind(AF_INET) == "ping");
    CHECK(probe.stats().duplicates == 0);
    CHECK(probe.stats().unmatched == 0);
    // The sysctl changes under a running probe: its next socket would be raw, with another key
    // layout; the round says so rather than mismatch every reply.
    ns.ping_group_range("1 0");
    auto r = run_all(loop, probe, {ping("::1", 1)}).at(0);
    CHECK(r.outcome == Outcome::error);
    CHECK(r.detail.find("ping_group_range changed") != std::string::npos);
}

TEST_CASE("unanswered rounds end at their own timeouts, shortest first, and no earlier") {
    SilentNamespace ns;
    ns.echo_ignore(true);
    EventLoop loop;
    REQUIRE(loop.init().ok());
    IcmpProbe probe(loop);
    std::vector<std::pair<std::string, ProbeResult>> results;
    const auto t0 = loop.now();
    std::vector<Duration> took;
    for (auto [to, timeout] : {std::pair{"127.0.0.2", 300ms},
                               {"127.0.0.3", 100ms},
                               {"127.0.0.4", 300ms},
                               {"127.0.0.5", 100ms}}) {
        auto req = ping(to, 1);
        req.timeout = timeout;
        probe.start(req, [&, to = std::string(to)](ProbeResult r) {
            took.push_back(loop.now() - t0);
            results.emplace_back(to, std::move(r));
        });
    }
    while (results.size() < 4 && loop.now() - t0 < 5s)
        loop.run_once(100ms);
    REQUIRE(results.size() == 4);
    for (const auto& [to, r] : results) {
        CHECK(r.outcome == Outcome::filtered);
        CHECK(icmp_of(r).packets_sent == 1);
        CHECK(icmp_of(r).packets_received == 0);
    }
    CHECK(results[0].first == "127.0.0.3");
    CHECK(results[1].first == "127.0.0.5");
    CHECK(took[1] >= 100ms);
    CHECK(took[1] < 250ms);
    CHECK(took[2] >= 300ms);
    CHECK(took[3] < 1s);
    CHECK(probe.rounds_in_flight() == 0);
}

TEST_CASE("a round answered early leaves its timeout behind, and it never ends the next round") {
    SilentNamespace ns;
    EventLoop loop;
    REQUIRE(loop.init().ok());
    IcmpProbe probe(loop);
    auto req = ping("127.0.0.2", 1);
    req.timeout = 1s;
    auto first = run_all(loop, probe, {req}).at(0);  // answered: its round's slot is free again
    CHECK(first.outcome == Outcome::ok);
    REQUIRE(probe.rounds_in_flight() == 0);
    // 400 ms on, a round that nothing answers takes the same slot; the first round's deadline
    // comes 600 ms into it.
    const auto wait_until = loop.now() + 400ms;
    while (loop.now() < wait_until)
        loop.run_once(50ms);
    ns.echo_ignore(true);
    const auto t0 = loop.now();
    auto second = run_all(loop, probe, {req}).at(0);
    CHECK(second.outcome == Outcome::filtered);
    CHECK(loop.now() - t0 >= 1s);
}
