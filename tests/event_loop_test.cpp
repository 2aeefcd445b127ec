#include <doctest/doctest.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/event_loop.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;

TEST_CASE("timers fire in deadline order; cancelled ones never fire") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    std::vector<int> fired;
    auto now = loop.now();
    loop.add_timer(now + 30ms, [&] { fired.push_back(3); });
    loop.add_timer(now + 10ms, [&] { fired.push_back(1); });
    auto cancelled = loop.add_timer(now + 20ms, [&] { fired.push_back(2); });
    loop.add_timer(now + 40ms, [&] { loop.stop(); });
    loop.cancel_timer(cancelled);
    loop.run();
    CHECK(fired == std::vector<int>{1, 3});
    CHECK(loop.now() - now >= 40ms);
}

TEST_CASE("fd handlers run on readiness and may remove themselves") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    int p[2];
    REQUIRE(pipe(p) == 0);
    int calls = 0;
    REQUIRE(loop.add_fd(p[0], EPOLLIN,
                        [&](std::uint32_t ev) {
                            CHECK((ev & EPOLLIN) != 0);
                            ++calls;
                            loop.remove_fd(p[0]);
                            loop.stop();
                        })
                .ok());
    REQUIRE(write(p[1], "x", 1) == 1);
    loop.add_timer(loop.now() + 2s, [&] { loop.stop(); });  // a bound, should the handler never run
    loop.run();
    CHECK(calls == 1);
    close(p[0]);
    close(p[1]);
}

TEST_CASE("deferred work runs after the current round, not inside the caller") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    std::vector<int> order;
    loop.add_timer(loop.now(), [&] {
        loop.defer([&] {
            order.push_back(2);
            loop.stop();
        });
        order.push_back(1);
    });
    loop.run();
    CHECK(order == std::vector<int>{1, 2});
}

TEST_CASE("work deferred outside a dispatch does not wait behind a blocking poll") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    bool ran = false;
    loop.defer([&] { ran = true; });  // as a probe started before run() queues its sends
    const auto before = loop.now();
    loop.run_once(2000ms);  // nothing is ready: it would block for the whole bound
    CHECK(ran);
    CHECK(loop.now() - before < 1000ms);
}

TEST_CASE("stop() from a handler ends the wake-up there: no due timer or deferred work runs") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    int p[2];
    REQUIRE(pipe(p) == 0);
    int timers = 0, deferred = 0;
    // A backlog: timers already due, and work deferred, when the stop request arrives.
    for (int i = 0; i < 100; ++i)
        loop.add_timer(loop.now() - 1ms, [&] { ++timers; });
    loop.defer([&] { ++deferred; });
    REQUIRE(loop.add_fd(p[0], EPOLLIN, [&](std::uint32_t) { loop.stop(); }).ok());
    REQUIRE(write(p[1], "x", 1) == 1);
    loop.run();  // run() first runs what was deferred before it; the wake-up then stops
    CHECK(deferred == 1);
    CHECK(timers == 0);
    loop.remove_fd(p[0]);
    close(p[0]);
    close(p[1]);
}
