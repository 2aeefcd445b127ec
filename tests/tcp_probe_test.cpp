// The TCP probe against real sockets on loopback.
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <vector>

#include "core/event_loop.hpp"
#include "probes/tcp/tcp_probe.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;

namespace {

// A listening socket on 127.0.0.1 with a kernel-chosen port.
struct Listener {
    int fd = -1;
    std::uint16_t port = 0;
    Listener() {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
        REQUIRE(listen(fd, 128) == 0);
        socklen_t len = sizeof sa;
        getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
        port = ntohs(sa.sin_port);
    }
    ~Listener() { close(fd); }
};

ProbeResult run_probe(EventLoop& loop, TcpProbe& probe, ProbeRequest req) {
    // Not std::optional: g++ 12 warns falsely (maybe-uninitialized) about a variant inside one.
    std::unique_ptr<ProbeResult> got;
    probe.start(req, [&](ProbeResult r) { got = std::make_unique<ProbeResult>(std::move(r)); });
    auto deadline = loop.now() + 5s;
    while (!got && loop.now() < deadline)
        loop.run_once(100ms);
    REQUIRE(got);
    return *got;
}

ProbeRequest to(const std::string& addr, std::uint16_t port, Duration timeout = 1s) {
    ProbeRequest r;
    r.params = TcpParams{};
    r.destination = *IpAddress::parse(addr);
    r.port = port;
    r.timeout = timeout;
    return r;
}

}  // namespace

TEST_CASE("an open port is ok, with a connect time") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    TcpProbe probe(loop);
    Listener l;
    auto r = run_probe(loop, probe, to("127.0.0.1", l.port));
    CHECK(r.outcome == Outcome::ok);
    CHECK(r.duration > 0ns);
    CHECK(r.duration < 1s);
    CHECK_FALSE(r.reporter);
    CHECK(probe.in_flight() == 0);
}

TEST_CASE("a closed port is refused, reported by the target itself") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    TcpProbe probe(loop);
    std::uint16_t port;
    {
        Listener l;
        port = l.port;
    }  // closed again: nothing listens there now
    auto r = run_probe(loop, probe, to("127.0.0.7", port));
    CHECK(r.outcome == Outcome::refused);
    REQUIRE(r.reporter);
    CHECK(r.reporter->str() == "127.0.0.7");
}

TEST_CASE("the source address option binds the probe; an absent one is a local error") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    TcpProbe probe(loop);
    Listener l;
    auto req = to("127.0.0.1", l.port);
    req.set_send().source = IpAddress::parse("127.0.0.9");
    CHECK(run_probe(loop, probe, req).outcome == Outcome::ok);
    req.set_send().source =
        IpAddress::parse("192.0.2.1");  // not on this host: bind fails before any packet
    auto r = run_probe(loop, probe, req);
    CHECK(r.outcome == Outcome::error);
    CHECK(r.detail.find("bind(source)") != std::string::npos);
}

TEST_CASE("DSCP and a missing device are applied or reported") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    TcpProbe probe(loop);
    Listener l;
    auto req = to("127.0.0.1", l.port);
    req.set_send().dscp = 46;
    CHECK(run_probe(loop, probe, req).outcome == Outcome::ok);
    req.set_send().device = "nosuchdev0";
    auto r = run_probe(loop, probe, req);
    CHECK(r.outcome == Outcome::error);
    CHECK(r.detail.find("SO_BINDTODEVICE") != std::string::npos);
}

TEST_CASE("many probes in flight at once share the loop") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    TcpProbe probe(loop);
    Listener l;
    int done = 0, ok = 0;
    for (int i = 0; i < 50; ++i)
        probe.start(to("127.0.0.1", l.port), [&](ProbeResult r) {
            ++done;
            ok += r.outcome == Outcome::ok;
        });
    auto deadline = loop.now() + 5s;
    while (done < 50 && loop.now() < deadline)
        loop.run_once(100ms);
    CHECK(done == 50);
    CHECK(ok == 50);
}

TEST_CASE("a connect that fails at once keeps its error (here: no route from a local table)") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    TcpProbe probe(loop);
    // 0.0.0.0 as a destination on a namespace-free loopback is refused or unreachable at once,
    // never ok: the errno of the failed connect() must reach the verdict.
    auto r = run_probe(loop, probe, to("0.0.0.0", 1));
    CHECK(r.outcome != Outcome::ok);
    CHECK(r.outcome != Outcome::filtered);
}

namespace {
// A listener that never accepts, its one-place queue already full: further SYNs are dropped,
// so a probe to it holds its socket until its timeout, as a silently dropped target does.
struct FullListener {
    Listener l;
    int filler = -1;
    FullListener() {
        REQUIRE(listen(l.fd, 0) == 0);
        filler = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sa.sin_port = htons(l.port);
        REQUIRE(connect(filler, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    }
    ~FullListener() { close(filler); }
};

struct Collected {
    std::vector<std::unique_ptr<ProbeResult>> results;
    Probe::Done slot(std::size_t i) {
        if (results.size() <= i) results.resize(i + 1);
        return
            [this, i](ProbeResult r) { results[i] = std::make_unique<ProbeResult>(std::move(r)); };
    }
    bool all(std::size_t n) const {
        if (results.size() < n) return false;
        for (std::size_t i = 0; i < n; ++i)
            if (!results[i]) return false;
        return true;
    }
};

void run_until(EventLoop& loop, const std::function<bool()>& done) {
    auto deadline = loop.now() + 5s;
    while (!done() && loop.now() < deadline)
        loop.run_once(50ms);
    REQUIRE(done());
}
}  // namespace

TEST_CASE("with no descriptor free a probe waits its turn, and past its timeout is overloaded") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    loop.fd_budget().set_limit(1);
    TcpProbe probe(loop);
    FullListener hole;
    Listener open;
    Collected c;
    probe.start(to("127.0.0.1", hole.l.port, 300ms), c.slot(0));  // holds the one socket 300 ms
    probe.start(to("127.0.0.1", open.port, 100ms), c.slot(1));    // cannot wait that long
    probe.start(to("127.0.0.1", open.port, 1s), c.slot(2));       // can
    CHECK(probe.in_flight() == 1);
    CHECK(probe.waiting() == 2);
    CHECK(loop.fd_budget().in_use() == 1);
    run_until(loop, [&] { return c.all(3); });
    CHECK(c.results[0]->outcome == Outcome::filtered);
    CHECK_FALSE(c.results[0]->overload);
    REQUIRE(c.results[1]->overload);
    CHECK(*c.results[1]->overload == Overload::queued);  // the prober's limit, not the network
    CHECK(c.results[2]->outcome == Outcome::ok);
    CHECK_FALSE(c.results[2]->overload);
    CHECK(loop.fd_budget().in_use() == 0);
    CHECK(probe.waiting() == 0);
}

TEST_CASE("EMFILE from the kernel shrinks the budget and the probe waits instead of failing") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    TcpProbe probe(loop);
    Listener open;
    rlimit saved{};
    REQUIRE(getrlimit(RLIMIT_NOFILE, &saved) == 0);
    // Exactly one descriptor free above what is open now.
    int probe_fd = dup(0);
    REQUIRE(probe_fd >= 0);
    close(probe_fd);
    rlimit tight = saved;
    tight.rlim_cur = static_cast<rlim_t>(probe_fd) + 1;
    REQUIRE(setrlimit(RLIMIT_NOFILE, &tight) == 0);
    Collected c;
    for (std::size_t i = 0; i < 3; ++i)
        probe.start(to("127.0.0.1", open.port, 2s), c.slot(i));
    const std::size_t shrunk_to = loop.fd_budget().limit();
    const std::size_t waited = probe.waiting();
    run_until(loop, [&] { return c.all(3); });
    REQUIRE(setrlimit(RLIMIT_NOFILE, &saved) == 0);
    CHECK(shrunk_to == 1);
    CHECK(waited == 2);
    for (std::size_t i = 0; i < 3; ++i) {
        INFO("probe " << i << ": " << c.results[i]->detail);
        CHECK(c.results[i]->outcome == Outcome::ok);
        CHECK_FALSE(c.results[i]->overload);
    }
}
