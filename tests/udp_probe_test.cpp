// The UDP probe against real sockets on loopback.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "core/event_loop.hpp"
#include "probes/udp/udp_probe.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;

namespace {

struct UdpSocket {
    int fd = -1;
    std::uint16_t port = 0;
    UdpSocket() {
        fd = socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
        socklen_t len = sizeof sa;
        getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
        port = ntohs(sa.sin_port);
    }
    ~UdpSocket() { close(fd); }
};

ProbeResult run_probe(std::uint16_t port, std::string payload = {}, std::string expect = {}) {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    UdpProbe probe(loop);
    ProbeRequest req;
    req.destination = *IpAddress::parse("127.0.0.1");
    req.port = port;
    req.timeout = 300ms;
    req.params = UdpParams{std::move(payload), std::move(expect)};
    std::optional<ProbeResult> got;
    probe.start(req, [&](ProbeResult r) { got = r; });
    auto deadline = loop.now() + 5s;
    while (!got && loop.now() < deadline)
        loop.run_once(50ms);
    REQUIRE(got);
    CHECK(probe.in_flight() == 0);
    return *got;
}

}  // namespace

TEST_CASE("a reply is ok, and the probe identifies itself") {
    UdpSocket echo;
    std::string seen;
    std::thread responder([&] {
        char buf[256];
        sockaddr_storage from{};
        socklen_t len = sizeof from;
        ssize_t n = recvfrom(echo.fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n > 0) {
            seen.assign(buf, static_cast<std::size_t>(n));
            sendto(echo.fd, buf, static_cast<std::size_t>(n), 0, reinterpret_cast<sockaddr*>(&from),
                   len);
        }
    });
    auto r = run_probe(echo.port, "fedprobe probe from kent-nhs");
    responder.join();
    CHECK(r.outcome == Outcome::ok);
    CHECK(seen == "fedprobe probe from kent-nhs");
}

TEST_CASE("a closed port answers ICMP port unreachable: refused, reported by the target") {
    std::uint16_t port;
    {
        UdpSocket s;
        port = s.port;
    }
    auto r = run_probe(port);
    CHECK(r.outcome == Outcome::refused);
    REQUIRE(r.reporter);
    CHECK(r.reporter->str() == "127.0.0.1");
}

TEST_CASE("silence is filtered (open or filtered, for UDP)") {
    UdpSocket silent;  // bound, never answers
    auto r = run_probe(silent.port);
    CHECK(r.outcome == Outcome::filtered);
    CHECK(r.duration >= 300ms);
}

TEST_CASE("a reply that does not match the expected pattern is a mismatch") {
    UdpSocket echo;
    std::thread responder([&] {
        char buf[256];
        sockaddr_storage from{};
        socklen_t len = sizeof from;
        for (int i = 0; i < 2; ++i) {
            ssize_t n =
                recvfrom(echo.fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
            if (n > 0) sendto(echo.fd, "PONG v2", 7, 0, reinterpret_cast<sockaddr*>(&from), len);
        }
    });
    CHECK(run_probe(echo.port, "PING", "^PONG v[0-9]+$").outcome == Outcome::ok);
    auto r = run_probe(echo.port, "PING", "^PONG v1$");
    CHECK(r.outcome == Outcome::mismatch);
    CHECK(r.detail == "the reply does not match /^PONG v1$/");
    responder.join();
}
