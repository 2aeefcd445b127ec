// The idle probe against real sockets on loopback: a session that survives its idle time, a
// server that closes idle sessions itself, a reset, and a closed port. (Silence, a firewall
// forgetting the session, needs a firewall: tests/lab_idle.sh.)
#include "probes/idle/idle_probe.hpp"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "core/event_loop.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;

namespace {

// A listener on 127.0.0.1 that accepts on the loop and then does `after` to each connection
// `delay` later: nothing, close (a FIN), or close with SO_LINGER 0 (a RST).
struct Server {
    enum class After { keep, close, reset };
    EventLoop& loop;
    int fd = -1;
    std::uint16_t port = 0;
    std::vector<int> accepted;

    Server(EventLoop& l, After after, Duration delay) : loop(l) {
        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
        REQUIRE(listen(fd, 16) == 0);
        socklen_t len = sizeof sa;
        getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
        port = ntohs(sa.sin_port);
        REQUIRE(loop.add_fd(fd, EPOLLIN,
                            [this, after, delay](std::uint32_t) {
                                int c = accept(fd, nullptr, nullptr);
                                if (c < 0) return;
                                accepted.push_back(c);
                                if (after == After::keep) return;
                                loop.add_timer(loop.now() + delay, [this, c, after] {
                                    if (after == After::reset) {
                                        linger l{1, 0};
                                        setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);
                                    }
                                    close(c);
                                    accepted.erase(std::find(accepted.begin(), accepted.end(), c));
                                });
                            })
                    .ok());
    }
    ~Server() {
        loop.remove_fd(fd);
        close(fd);
        for (int c : accepted)
            close(c);
    }
};

ProbeRequest to(std::uint16_t port, int min_s, int max_s, int sessions) {
    ProbeRequest r;
    IdleParams p;
    p.min = std::chrono::seconds(min_s);
    p.max = std::chrono::seconds(max_s);
    p.sessions = sessions;
    p.required = std::chrono::seconds(2);
    r.params = p;
    r.destination = *IpAddress::parse("127.0.0.1");
    r.port = port;
    r.timeout = 1s;
    return r;
}

ProbeResult poll(EventLoop& loop, IdleProbe& probe, const ProbeRequest& req) {
    std::unique_ptr<ProbeResult> got;
    probe.start(req, [&](ProbeResult r) { got = std::make_unique<ProbeResult>(std::move(r)); });
    auto deadline = loop.now() + 3s;
    while (!got && loop.now() < deadline)
        loop.run_once(50ms);
    REQUIRE(got);
    return *got;
}

void run_until_idle(EventLoop& loop, IdleProbe& probe, Duration most) {
    auto deadline = loop.now() + most;
    while (probe.sessions_open() > 0 && loop.now() < deadline)
        loop.run_once(100ms);
}

// Starts the sessions, waits until they have all ended, and polls for what they found.
ProbeResult settle(EventLoop& loop, IdleProbe& probe, const ProbeRequest& req, Duration most) {
    poll(loop, probe, req);
    run_until_idle(loop, probe, most);
    return poll(loop, probe, req);
}

}  // namespace

TEST_CASE("sessions that survive: the lower bound climbs to the maximum, nothing is cut") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    Server server(loop, Server::After::keep, 0s);
    IdleProbe probe(loop);
    auto req = to(server.port, 1, 3, 2);
    ProbeResult first = poll(loop, probe, req);
    CHECK(first.outcome == Outcome::ok);
    loop.run_once(100ms);
    CHECK(probe.sessions_open() == 2);  // once connected, the maximum and the minimum at once
    run_until_idle(loop, probe, 20s);
    ProbeResult r = poll(loop, probe, req);
    const IdleResult* idle = r.as<IdleKind>();
    REQUIRE(idle);
    CHECK(idle->lower == 3);
    CHECK(std::isinf(idle->upper));
    CHECK(idle->cuts == std::array<std::uint64_t, 3>{0, 0, 0});
    CHECK(idle->converged);
    CHECK(idle->required == 2);
    CHECK(probe.sessions_open() == 0);
}

TEST_CASE("a server that closes idle sessions itself is server_closed, not a cut") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    Server server(loop, Server::After::close, 1s);
    IdleProbe probe(loop);
    auto req = to(server.port, 2, 5, 1);
    const ProbeResult r = settle(loop, probe, req, 10s);
    const IdleResult* idle = r.as<IdleKind>();
    REQUIRE(idle);
    CHECK(idle->cuts[static_cast<int>(IdleCut::server_closed)] == 1);
    CHECK(std::isinf(idle->upper));  // not blamed on the network
    CHECK(idle->converged);          // nothing is worth trying beyond the server's own limit
}

TEST_CASE("a reset cuts the session when it comes") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    Server server(loop, Server::After::reset, 1s);
    IdleProbe probe(loop);
    auto req = to(server.port, 2, 5, 1);
    const ProbeResult r = settle(loop, probe, req, 10s);
    const IdleResult* idle = r.as<IdleKind>();
    REQUIRE(idle);
    CHECK(idle->cuts[static_cast<int>(IdleCut::reset)] == 1);
    CHECK(idle->upper == doctest::Approx(1).epsilon(0.3));
}

TEST_CASE("a closed port: the poll says refused, and no session stays open") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    std::uint16_t port;
    {
        Server gone(loop, Server::After::keep, 0s);
        port = gone.port;
    }
    IdleProbe probe(loop);
    ProbeResult r = poll(loop, probe, to(port, 1, 3, 3));
    CHECK(r.outcome == Outcome::refused);
    CHECK(probe.sessions_open() == 0);
    CHECK(loop.fd_budget().in_use() == 0);
}
