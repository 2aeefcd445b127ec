// The http probe against a small HTTP server on loopback, driven by the same event loop the
// daemon uses. TLS cases run in the lab (tests/lab_probes.sh), against nginx.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "core/event_loop.hpp"
#include "probes/http/http_probe.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;

namespace {

int listen_on_loopback(std::uint16_t& port, int backlog = 64, int family = AF_INET) {
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_storage ss;
    socklen_t len = IpAddress::parse(family == AF_INET ? "127.0.0.1" : "::1")->to_sockaddr(0, ss);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0);
    REQUIRE(listen(fd, backlog) == 0);
    getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    port = family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port)
                             : ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
    return fd;
}

// Answers every connection with `response` after reading the request head.
struct HttpServer {
    int fd = -1;
    std::uint16_t port = 0;
    std::string response;
    std::thread thread;
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::vector<std::string> requests;
    std::vector<std::string> peers;  // each connection's source address

    explicit HttpServer(std::string r, int family = AF_INET) : response(std::move(r)) {
        fd = listen_on_loopback(port, 256, family);
        thread = std::thread([this] { serve(); });
    }
    ~HttpServer() {
        stop = true;
        shutdown(fd, SHUT_RDWR);
        thread.join();
        close(fd);
    }
    void serve() {
        while (!stop) {
            sockaddr_storage from{};
            socklen_t from_len = sizeof from;
            int c = accept(fd, reinterpret_cast<sockaddr*>(&from), &from_len);
            if (c < 0) return;
            std::string req;
            char buf[4096];
            while (req.find("\r\n\r\n") == std::string::npos) {
                ssize_t n = read(c, buf, sizeof buf);
                if (n <= 0) break;
                req.append(buf, static_cast<size_t>(n));
            }
            {
                std::lock_guard lock(mutex);
                requests.push_back(req);
                peers.push_back(
                    IpAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&from))->str());
            }
            if (write(c, response.data(), response.size()) < 0) {
            }
            close(c);
        }
    }
};

std::string reply(int status, const std::string& body) {
    return "HTTP/1.1 " + std::to_string(status) +
           " X\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nConnection: close\r\n\r\n" + body;
}

HttpParams& http_of(ProbeRequest& r) {
    return r.params_of<HttpKind>();
}

ProbeRequest request(const std::string& url) {
    ProbeRequest req;
    req.destination = *IpAddress::parse("127.0.0.1");
    req.timeout = 500ms;
    HttpParams p;
    p.url = url;
    std::string why;
    p.url_parts = parse_http_url(url, why).value_or(HttpUrl{});  // as the kind's params() does
    p.user_agent = "fedprobe/test (site lo)";
    req.params = p;
    return req;
}

std::vector<ProbeResult> run(const std::vector<ProbeRequest>& reqs) {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    HttpProbe probe(loop);
    std::vector<ProbeResult> got;
    for (const auto& r : reqs)
        probe.start(r, [&](ProbeResult res) { got.push_back(std::move(res)); });
    CHECK(got.empty());  // never inside start()
    auto deadline = loop.now() + 10s;
    while (got.size() < reqs.size() && loop.now() < deadline)
        loop.run_once(50ms);
    REQUIRE(got.size() == reqs.size());
    CHECK(probe.in_flight() == 0);
    return got;
}

ProbeResult run(const ProbeRequest& req) {
    return run(std::vector<ProbeRequest>{req})[0];
}

}  // namespace

TEST_CASE("a 200 is ok, with the phases measured, the URL's host pinned to the address") {
    HttpServer server(reply(200, "epr kent-nhs\n"));
    // portal.invalid resolves nowhere: the probe must connect to the target's address anyway.
    auto req = request("http://portal.invalid:" + std::to_string(server.port) + "/health");
    http_of(req).http.body_regex = "^epr [a-z-]+$";
    auto r = run(req);
    CHECK(r.outcome == Outcome::ok);
    REQUIRE(r.as<HttpKind>());
    CHECK(r.as<HttpKind>()->status == 200);
    CHECK(r.as<HttpKind>()->phases.connect > 0);
    CHECK(r.as<HttpKind>()->phases.processing > 0);
    CHECK(r.as<HttpKind>()->phases.tls == 0);
    CHECK_FALSE(r.as<HttpKind>()->tls_used);
    CHECK(r.duration > 0us);
    std::lock_guard lock(server.mutex);
    REQUIRE(server.requests.size() == 1);
    const std::string& head = server.requests[0];
    CHECK(head.starts_with("GET /health HTTP/1.1\r\n"));
    CHECK(head.find("Host: portal.invalid:" + std::to_string(server.port) + "\r\n") !=
          std::string::npos);
    CHECK(head.find("User-Agent: fedprobe/test (site lo)\r\n") != std::string::npos);
}

TEST_CASE("IPv6: a named URL pinned to a v6 address, and a URL with the address in it") {
    HttpServer server(reply(200, "v6"), AF_INET6);
    auto named = request("http://portal.invalid:" + std::to_string(server.port) + "/");
    named.destination = *IpAddress::parse("::1");
    CHECK(run(named).outcome == Outcome::ok);
    auto literal = request("http://[::1]:" + std::to_string(server.port) + "/");
    literal.destination = *IpAddress::parse("::1");
    CHECK(run(literal).outcome == Outcome::ok);
    std::lock_guard lock(server.mutex);
    REQUIRE(server.requests.size() == 2);
    CHECK(server.requests[1].find("Host: [::1]:") != std::string::npos);
}

TEST_CASE("system_resolver: the URL's host is resolved by the system, not pinned") {
    HttpServer server(reply(200, "ok"));
    // Nothing listens on 127.0.0.2: were the URL pinned to it, the probe would be refused.
    auto req = request("http://localhost:" + std::to_string(server.port) + "/");
    req.destination = *IpAddress::parse("127.0.0.2");
    http_of(req).http.system_resolver = true;
    CHECK(run(req).outcome == Outcome::ok);
    http_of(req).http.system_resolver = false;
    CHECK(run(req).outcome == Outcome::refused);
}

TEST_CASE("probes leave from the configured source address") {
    HttpServer server(reply(200, "ok"));
    auto req = request("http://127.0.0.1:" + std::to_string(server.port) + "/");
    req.set_send().source = IpAddress::parse("127.0.0.2");
    CHECK(run(req).outcome == Outcome::ok);
    req.set_send().source = IpAddress::parse("192.0.2.99");  // not on this machine: a local error
    auto bad = run(req);
    CHECK(bad.outcome == Outcome::error);
    CHECK(bad.detail.find("bind") != std::string::npos);
    std::lock_guard lock(server.mutex);
    REQUIRE(server.peers.size() == 1);
    CHECK(server.peers[0] == "127.0.0.2");
}

TEST_CASE("a 500, or a body that does not match, is a mismatch") {
    HttpServer broken(reply(500, "broken\n"));
    auto r = run(request("http://127.0.0.1:" + std::to_string(broken.port) + "/error"));
    CHECK(r.outcome == Outcome::mismatch);
    CHECK(r.detail == "status 500, expected 2xx");
    CHECK(r.as<HttpKind>()->status == 500);

    HttpServer login(reply(200, "please log in"));
    auto req = request("http://127.0.0.1:" + std::to_string(login.port) + "/");
    http_of(req).http.body_regex = "epr";
    CHECK(run(req).outcome == Outcome::mismatch);
    http_of(req).http.status = {302};
    CHECK(run(req).detail == "status 200, expected 302");
}

TEST_CASE("HEAD sends no body request, and a listed status is ok") {
    HttpServer server("HTTP/1.1 401 X\r\nContent-Length: 0\r\n\r\n");
    auto req = request("http://127.0.0.1:" + std::to_string(server.port) + "/");
    http_of(req).http.method = "HEAD";
    http_of(req).http.status = {401};
    CHECK(run(req).outcome == Outcome::ok);
    std::lock_guard lock(server.mutex);
    CHECK(server.requests.at(0).starts_with("HEAD / HTTP/1.1"));
}

TEST_CASE("a closed port is refused by the target; a server that never answers is filtered") {
    std::uint16_t port = 0;
    close(listen_on_loopback(port));
    auto refused = run(request("http://127.0.0.1:" + std::to_string(port) + "/"));
    CHECK(refused.outcome == Outcome::refused);
    REQUIRE(refused.reporter);
    CHECK(refused.reporter->str() == "127.0.0.1");

    int silent = listen_on_loopback(port);  // the kernel completes the handshake; no one reads
    auto r = run(request("http://127.0.0.1:" + std::to_string(port) + "/"));
    close(silent);
    CHECK(r.outcome == Outcome::filtered);
    CHECK(r.detail == "connected, but no complete response before the timeout");
    CHECK(r.duration >= 450ms);
}

TEST_CASE("an answer that is not HTTP is a mismatch") {
    HttpServer server("SSH-2.0-OpenSSH_9.2\r\n");
    CHECK(run(request("http://127.0.0.1:" + std::to_string(server.port) + "/")).outcome ==
          Outcome::mismatch);
}

TEST_CASE("an https probe whose CA bundle cannot be read is a local error, reported later") {
    auto req = request("https://127.0.0.1:1/");
    http_of(req).ca_file = "/nonexistent/ca.pem";
    auto r = run(req);
    CHECK(r.outcome == Outcome::error);
    CHECK(r.detail.find("cannot read the CA bundle /nonexistent/ca.pem") != std::string::npos);
}

TEST_CASE("many probes in flight at once share the one loop") {
    HttpServer server(reply(200, "ok"));
    std::vector<ProbeRequest> reqs(
        100, request("http://127.0.0.1:" + std::to_string(server.port) + "/"));
    auto results = run(reqs);
    std::size_t ok = 0;
    for (const auto& r : results)
        ok += r.outcome == Outcome::ok;
    CHECK(ok == reqs.size());
}

TEST_CASE("beyond the in-flight cap probes queue; one that cannot start in time is an error") {
    std::uint16_t port = 0;
    int silent = listen_on_loopback(port);  // every probe waits for its whole timeout
    EventLoop loop;
    REQUIRE(loop.init().ok());
    HttpProbe probe(loop, 2);
    auto req = request("http://127.0.0.1:" + std::to_string(port) + "/");
    req.timeout = 300ms;
    std::vector<ProbeResult> got;
    for (int i = 0; i < 5; ++i)
        probe.start(req, [&](ProbeResult r) { got.push_back(std::move(r)); });
    CHECK(probe.in_flight() == 5);
    auto deadline = loop.now() + 5s;
    while (got.size() < 5 && loop.now() < deadline)
        loop.run_once(50ms);
    close(silent);
    REQUIRE(got.size() == 5);
    // Two ran and met silence; the other three waited out their timeout in the queue and end
    // at the same moment (in either order).
    int filtered = 0, overloaded = 0;
    for (const auto& r : got) {
        if (r.outcome == Outcome::filtered) ++filtered;
        if (r.outcome == Outcome::error && r.overload == Overload::queued &&
            r.detail.find("overloaded") != std::string::npos)
            ++overloaded;
    }
    CHECK(filtered == 2);
    CHECK(overloaded == 3);
    CHECK(probe.overloaded() == 3);
    CHECK(probe.in_flight() == 0);
}

TEST_CASE("queued probes start as soon as a slot frees, and succeed") {
    HttpServer server(reply(200, "ok"));
    EventLoop loop;
    REQUIRE(loop.init().ok());
    HttpProbe probe(loop, 3);
    std::size_t ok = 0, done = 0;
    for (int i = 0; i < 20; ++i)
        probe.start(request("http://127.0.0.1:" + std::to_string(server.port) + "/"),
                    [&](ProbeResult r) { ++done, ok += r.outcome == Outcome::ok; });
    auto deadline = loop.now() + 10s;
    while (done < 20 && loop.now() < deadline)
        loop.run_once(50ms);
    CHECK(ok == 20);
    CHECK(probe.overloaded() == 0);
}

TEST_CASE("the descriptor budget: probes wait for a descriptor and succeed, never EMFILE") {
    HttpServer server(reply(200, "ok"));
    EventLoop loop;
    REQUIRE(loop.init().ok());
    loop.fd_budget().set_limit(2);  // far below the 20 probes started at once
    HttpProbe probe(loop);
    std::size_t ok = 0, done = 0, most = 0;
    for (int i = 0; i < 20; ++i)
        probe.start(request("http://127.0.0.1:" + std::to_string(server.port) + "/"),
                    [&](ProbeResult r) { ++done, ok += r.outcome == Outcome::ok; });
    auto deadline = loop.now() + 10s;
    while (done < 20 && loop.now() < deadline) {
        most = std::max(most, loop.fd_budget().in_use());
        loop.run_once(10ms);
    }
    CHECK(ok == 20);
    CHECK(most == 2);                       // the budget was used, and never exceeded
    CHECK(loop.fd_budget().in_use() == 0);  // every descriptor given back
    CHECK(probe.overloaded() == 0);
}

TEST_CASE("the descriptor budget: a probe that gets none within its timeout is overloaded then") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    loop.fd_budget().set_limit(1);
    REQUIRE(loop.fd_budget().try_take());  // held elsewhere (a tcp probe) for the whole test
    HttpProbe probe(loop);
    auto req = request("http://127.0.0.1:9/");
    req.timeout = 200ms;
    std::vector<ProbeResult> got;
    const auto started = loop.now();
    probe.start(req, [&](ProbeResult r) { got.push_back(std::move(r)); });
    // Something else gives a descriptor back and takes it again: the queue is looked at, and
    // the probe, still within its timeout, keeps waiting.
    loop.fd_budget().give();
    REQUIRE(loop.fd_budget().try_take());
    auto deadline = loop.now() + 150ms;
    while (loop.now() < deadline)
        loop.run_once(10ms);
    CHECK(got.empty());
    // No descriptor ever comes back: its own timeout ends the wait, not the next give().
    deadline = loop.now() + 2s;
    while (got.empty() && loop.now() < deadline)
        loop.run_once(10ms);
    REQUIRE(got.size() == 1);
    CHECK(loop.now() - started < 500ms);
    CHECK(got[0].outcome == Outcome::error);
    CHECK(got[0].overload == Overload::queued);
    CHECK(got[0].detail.find("descriptor limit") != std::string::npos);
    CHECK(probe.overloaded() == 1);
    CHECK(probe.in_flight() == 0);
    loop.fd_budget().give();
    CHECK(loop.fd_budget().in_use() == 0);
}
