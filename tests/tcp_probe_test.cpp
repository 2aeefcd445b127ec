// The TCP probe against real sockets on loopback.
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <memory>

#include "core/event_loop.hpp"
#include "probes/tcp_probe.hpp"

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
    req.send.source = IpAddress::parse("127.0.0.9");
    CHECK(run_probe(loop, probe, req).outcome == Outcome::ok);
    req.send.source =
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
    req.send.dscp = 46;
    CHECK(run_probe(loop, probe, req).outcome == Outcome::ok);
    req.send.device = "nosuchdev0";
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
