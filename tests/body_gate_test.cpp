// The web server's body gate: how many large replies it lets build and hold at once, in what
// order the parked ones come back, and that a stop hands every parked one back.
#include "exporters/body_gate.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

using namespace fedprobe;

namespace {

constexpr std::size_t MiB = 1u << 20;

void* waiter(int i) {
    return reinterpret_cast<void*>(static_cast<std::uintptr_t>(i + 1));
}

}  // namespace

TEST_CASE("two large bodies go at once; the third waits for one to be freed") {
    BodyGate gate(2, 64 * MiB);
    std::vector<void*> resumed;
    auto resume = [&](void* w) { resumed.push_back(w); };
    int parked = 0;
    auto park = [&] { ++parked; };
    REQUIRE(gate.enter(waiter(0), park) == BodyGate::Entry::admitted);
    gate.built(36 * MiB);
    REQUIRE(gate.enter(waiter(1), park) == BodyGate::Entry::admitted);
    gate.built(36 * MiB);
    CHECK(gate.enter(waiter(2), park) == BodyGate::Entry::parked);
    CHECK(gate.enter(waiter(3), park) == BodyGate::Entry::parked);
    CHECK(parked == 2);
    CHECK(gate.in_flight() == 2);
    CHECK(gate.bytes_in_flight() == 72 * MiB);
    gate.release(36 * MiB, resume);
    REQUIRE(resumed == std::vector<void*>{waiter(2)});  // first come, first served
    CHECK(gate.in_flight() == 2);
    CHECK(gate.waiting() == 1);
    gate.built(36 * MiB);
    gate.release(36 * MiB, resume);
    gate.release(36 * MiB, resume);
    CHECK(resumed == std::vector<void*>{waiter(2), waiter(3)});
    CHECK(gate.waiting() == 0);
}

TEST_CASE("small bodies never wait: the byte budget lets many through") {
    BodyGate gate(2, 64 * MiB);
    auto park = [] { FAIL("a small body was parked"); };
    for (int i = 0; i < 50; ++i) {
        REQUIRE(gate.enter(waiter(i), park) == BodyGate::Entry::admitted);
        gate.built(200 * 1024);
    }
    CHECK(gate.in_flight() == 50);
}

TEST_CASE("a body not built yet counts at the last body's size") {
    BodyGate gate(2, 64 * MiB);
    int parked = 0;
    auto park = [&] { ++parked; };
    REQUIRE(gate.enter(waiter(0), park) == BodyGate::Entry::admitted);
    gate.built(20 * MiB);
    // Three unbuilt bodies of about 20 MiB would pass the budget with the one built.
    REQUIRE(gate.enter(waiter(1), park) == BodyGate::Entry::admitted);
    REQUIRE(gate.enter(waiter(2), park) == BodyGate::Entry::admitted);
    CHECK(gate.enter(waiter(3), park) == BodyGate::Entry::parked);
    // A 401 of a few bytes between scrapes does not make the next scrape's estimate small.
    gate.built(20);
    CHECK(gate.enter(waiter(4), park) == BodyGate::Entry::parked);
    CHECK(parked == 2);
}

TEST_CASE("a request that never built its body gives its slot back; a closed waiter leaves") {
    BodyGate gate(1, 0);
    std::vector<void*> resumed;
    auto resume = [&](void* w) { resumed.push_back(w); };
    auto park = [] {};
    REQUIRE(gate.enter(waiter(0), park) == BodyGate::Entry::admitted);
    gate.built(10);
    gate.release(10, resume);
    REQUIRE(gate.enter(waiter(0), park) == BodyGate::Entry::admitted);
    REQUIRE(gate.enter(waiter(1), park) == BodyGate::Entry::parked);
    REQUIRE(gate.enter(waiter(2), park) == BodyGate::Entry::parked);
    gate.forget(waiter(1));
    gate.release(std::nullopt, resume);
    CHECK(resumed == std::vector<void*>{waiter(2)});
    CHECK(gate.in_flight() == 1);
    // Behind a waiter even with room: new requests must not overtake the parked ones.
    REQUIRE(gate.enter(waiter(3), park) == BodyGate::Entry::parked);
    gate.release(std::nullopt, resume);
    CHECK(resumed.back() == waiter(3));
}

TEST_CASE("a stop hands back every parked request and admits nothing more") {
    BodyGate gate(1, 0);
    auto park = [] {};
    REQUIRE(gate.enter(waiter(0), park) == BodyGate::Entry::admitted);
    gate.built(10);
    for (int i = 1; i <= 3; ++i)
        REQUIRE(gate.enter(waiter(i), park) == BodyGate::Entry::parked);
    std::vector<void*> resumed;
    gate.stop([&](void* w) { resumed.push_back(w); });
    CHECK(resumed.size() == 3);
    CHECK(gate.enter(waiter(9), park) == BodyGate::Entry::refused);
    std::vector<void*> after;
    gate.release(10, [&](void* w) { after.push_back(w); });
    CHECK(after.empty());
}

TEST_CASE("threads: every parked request comes back once, and the counts end at zero") {
    // Four threads as the server's: each request enters, parks or builds, and releases; a
    // parked one is finished by whichever thread resumes it, as MHD does.
    BodyGate gate(2, 8 * MiB);
    constexpr int kRequests = 4000;
    std::atomic<int> done{0}, resumed_twice{0};
    std::vector<std::atomic<int>> resumes(kRequests);
    std::function<void(void*)> resume = [&](void* w) {
        const int i = static_cast<int>(reinterpret_cast<std::uintptr_t>(w)) - 1;
        if (resumes[i]++ > 0) ++resumed_twice;
    };
    auto run = [&](int first, int step, unsigned seed) {
        std::mt19937 rng(seed);
        std::vector<std::optional<std::size_t>> held;  // bodies being sent, released later
        auto release_one = [&] {
            gate.release(held.front(), resume);
            held.erase(held.begin());
            ++done;
        };
        for (int i = first; i < kRequests; i += step) {
            const auto e = gate.enter(waiter(i), [] {});
            if (e == BodyGate::Entry::parked) continue;
            if (rng() % 4 == 0) {  // its connection closed before it built a body
                held.push_back(std::nullopt);
            } else {
                const std::size_t size = rng() % (6 * MiB);
                gate.built(size);
                held.push_back(size);
            }
            if (held.size() > rng() % 3) release_one();
        }
        while (!held.empty())
            release_one();
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back(run, t, 4, 17u + t);
    for (auto& t : threads)
        t.join();
    // What is left parked is resumed by the releases still to come: drain them as MHD would.
    for (int round = 0; gate.waiting() > 0 || gate.in_flight() > 0; ++round) {
        REQUIRE(round < kRequests * 2);
        gate.release(std::nullopt, resume);  // the resumed ones, closed before they built
    }
    CHECK(resumed_twice == 0);
    int parked = 0;
    for (auto& r : resumes)
        parked += r.load();
    CHECK(done + parked == kRequests);
    CHECK(parked > 0);  // the test exercised parking at all
    CHECK(gate.in_flight() == 0);
    CHECK(gate.bytes_in_flight() == 0);
}
