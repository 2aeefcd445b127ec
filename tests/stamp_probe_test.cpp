// The stamp probe against fedprobe's own reflector on loopback, on one event loop: a clean
// round, the DSCP that arrived, loss that a lossy relay makes in one direction (told apart by
// the reflector's count), a closed port, a wrong key, and a stateless reflector.
#include "probes/stamp/stamp_probe.hpp"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <functional>
#include <memory>

#include "core/event_loop.hpp"
#include "probes/stamp/stamp_reflector.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;

namespace {

StampReflectorSettings loopback(bool stateful = true) {
    StampReflectorSettings s;
    s.listen = {*Endpoint::parse("127.0.0.1:0")};
    s.allow = {*Prefix::parse("127.0.0.0/8")};
    s.stateful = stateful;
    s.rate_limit = 10000;
    return s;
}

ProbeRequest to(std::uint16_t port, int packets = 5) {
    ProbeRequest r;
    StampParams p;
    p.packets = packets;
    p.spacing = 5ms;
    p.ssid = 77;
    p.dscp = 34;
    r.params = p;
    r.destination = *IpAddress::parse("127.0.0.1");
    r.port = port;
    r.timeout = 300ms;
    return r;
}

ProbeResult round_of(EventLoop& loop, StampProbe& probe, const ProbeRequest& req) {
    std::unique_ptr<ProbeResult> got;
    probe.start(req, [&](ProbeResult r) { got = std::make_unique<ProbeResult>(std::move(r)); });
    const auto deadline = loop.now() + 5s;
    while (!got && loop.now() < deadline)
        loop.run_once(20ms);
    REQUIRE(got);
    return *got;
}

// A reflector behind a lossy path: the relay reads test packets itself, hands those that
// "arrive" to a StampReflector's decision, and drops replies on the way back as told.
struct LossyReflector {
    EventLoop& loop;
    StampReflector decide;
    int fd = -1;
    std::uint16_t port = 0;
    std::function<bool(std::uint32_t)> drop_forward, drop_backward;
    std::uint32_t seen = 0;

    LossyReflector(EventLoop& l, std::function<bool(std::uint32_t)> fwd,
                   std::function<bool(std::uint32_t)> back)
        : loop(l),
          decide(l, loopback()),
          drop_forward(std::move(fwd)),
          drop_backward(std::move(back)) {
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
        socklen_t len = sizeof sa;
        getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
        port = ntohs(sa.sin_port);
        REQUIRE(loop.add_fd(fd, EPOLLIN, [this](std::uint32_t) { read(); }).ok());
    }
    ~LossyReflector() {
        loop.remove_fd(fd);
        close(fd);
    }
    void read() {
        std::uint8_t buf[2048];
        sockaddr_in from{};
        socklen_t len = sizeof from;
        ssize_t n;
        while ((n = recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len)) >
               0) {
            const std::uint32_t i = seen++;
            if (drop_forward(i)) continue;
            StampArrival in{std::span<const std::uint8_t>(buf, static_cast<std::size_t>(n)),
                            IpAddress::from_in(from.sin_addr),
                            ntohs(from.sin_port),
                            *IpAddress::parse("127.0.0.1"),
                            port,
                            0,
                            64,
                            realtime_ns()};
            auto reply = decide.reflect(in, loop.now());
            if (!reply || drop_backward(i)) continue;
            sendto(fd, reply->bytes.data(), reply->bytes.size(), 0,
                   reinterpret_cast<sockaddr*>(&from), len);
        }
    }
};

}  // namespace

TEST_CASE("a clean round: every reply, a round trip, the DSCP that arrived, no translation") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    StampReflector refl(loop, loopback());
    REQUIRE(refl.start().ok());
    StampProbe probe(loop);
    auto r = round_of(loop, probe, to(refl.bound()[0].port));
    CHECK(r.outcome == Outcome::ok);
    const StampResult* s = r.as<StampKind>();
    REQUIRE(s);
    CHECK(s->sent == 5);
    CHECK(s->received == 5);
    CHECK(s->forward_lost == 0);
    CHECK(s->backward_lost == 0);
    REQUIRE(s->rtt.size() == 5);
    for (double v : s->rtt) {
        CHECK(v > 0);
        CHECK(v < 0.1);
    }
    CHECK(s->jitter.has_value());
    // One clock at both ends: the offset is 0 within half the quickest round trip.
    REQUIRE(s->clock_offset);
    REQUIRE(s->clock_offset_error);
    CHECK(*s->clock_offset_error > 0);
    CHECK(std::abs(*s->clock_offset) <= *s->clock_offset_error + 1e-9);
    CHECK(s->dscp_sent == 34);
    REQUIRE(s->dscp_received);
    CHECK(*s->dscp_received == 34);
    REQUIRE(s->translated);
    CHECK_FALSE(*s->translated);
    CHECK(refl.counts().get(StampReflected::reflected) == 5);
    // The session lives on: the next round continues the same count.
    const ProbeResult again = round_of(loop, probe, to(refl.bound()[0].port));
    CHECK(again.as<StampKind>()->received == 5);
    CHECK(probe.sessions() == 1);
    CHECK(refl.sessions() == 1);
}

TEST_CASE("loss on the way there is forward loss, on the way back backward loss") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    LossyReflector fwd(
        loop, [](std::uint32_t i) { return i % 4 == 1; }, [](std::uint32_t) { return false; });
    StampProbe probe(loop);
    std::uint64_t forward = 0, backward = 0, sent = 0, received = 0;
    for (int round = 0; round < 3; ++round) {
        auto r = round_of(loop, probe, to(fwd.port, 8));
        const StampResult* s = r.as<StampKind>();
        REQUIRE(s);
        forward += s->forward_lost;
        backward += s->backward_lost;
        sent += s->sent;
        received += s->received;
    }
    CHECK(sent == 24);
    CHECK(received == 18);
    CHECK(forward == 6);
    CHECK(backward == 0);

    LossyReflector back(
        loop, [](std::uint32_t) { return false; }, [](std::uint32_t i) { return i % 4 == 2; });
    StampProbe probe2(loop);
    forward = backward = 0;
    for (int round = 0; round < 3; ++round) {
        const ProbeResult r = round_of(loop, probe2, to(back.port, 8));
        const StampResult* s = r.as<StampKind>();
        REQUIRE(s);
        forward += s->forward_lost;
        backward += s->backward_lost;
    }
    CHECK(forward == 0);
    CHECK(backward == 6);
}

TEST_CASE("a port nobody listens on is refused") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    socklen_t len = sizeof sa;
    getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    const std::uint16_t port = ntohs(sa.sin_port);
    close(fd);  // the port is free now
    StampProbe probe(loop);
    auto r = round_of(loop, probe, to(port, 2));
    CHECK(r.outcome == Outcome::refused);
    CHECK(r.as<StampKind>()->received == 0);
}

TEST_CASE("a wrong key gets silence, a right one answers") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    auto settings = loopback();
    settings.key = StampKey{'r', 'i', 'g', 'h', 't'};
    StampReflector refl(loop, settings);
    REQUIRE(refl.start().ok());
    StampProbe probe(loop);
    auto req = to(refl.bound()[0].port, 3);
    req.params_of<StampKind>().key = {'w', 'r', 'o', 'n', 'g'};
    auto r = round_of(loop, probe, req);
    CHECK(r.outcome == Outcome::filtered);
    CHECK(refl.counts().get(StampReflected::auth_failed) == 3);
    req.params_of<StampKind>().key = *settings.key;
    auto ok = round_of(loop, probe, req);
    CHECK(ok.outcome == Outcome::ok);
    CHECK(ok.as<StampKind>()->received == 3);
}

TEST_CASE("PTP timestamps and a stateless reflector: round trips, no per-direction loss") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    StampReflector refl(loop, loopback(false));
    REQUIRE(refl.start().ok());
    StampProbe probe(loop);
    auto req = to(refl.bound()[0].port, 3);
    req.params_of<StampKind>().ptp = true;
    req.params_of<StampKind>().stateful = false;
    auto r = round_of(loop, probe, req);
    REQUIRE(r.outcome == Outcome::ok);
    const StampResult* s = r.as<StampKind>();
    CHECK_FALSE(s->stateful);
    for (double v : s->rtt)
        CHECK(v < 0.1);
}
