#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>

#include "engine/scheduler.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;

namespace {

// Names that outlive every scheduler here: a job's name is its `user` pointer, and networks are
// views.
const std::string& intern(const std::string& name) {
    static std::set<std::string> names;
    return *names.insert(name).first;
}

std::vector<JobSpec> jobs(int n, const std::string& network, Duration interval,
                          const std::string& prefix = "t") {
    std::vector<JobSpec> out;
    for (int i = 0; i < n; ++i)
        out.push_back(JobSpec{interval,
                              intern(network),
                              const_cast<std::string*>(&intern(prefix + std::to_string(i))),
                              {}});
    return out;
}

const std::string& name(const Scheduler::Start& st) {
    return *static_cast<const std::string*>(st.user);
}

// Drives the scheduler with an injected clock in fixed steps; returns each job's start times.
std::map<std::string, std::vector<TimePoint>> drive(Scheduler& s, TimePoint from, Duration span,
                                                    Duration step, bool finish_immediately = true) {
    std::map<std::string, std::vector<TimePoint>> starts;
    for (TimePoint now = from; now <= from + span; now += step) {
        for (const auto& st : s.due(now)) {
            starts[name(st)].push_back(now);
            if (finish_immediately) s.finished(st.handle);
        }
    }
    return starts;
}

}  // namespace

TEST_CASE("first runs are spread evenly over the interval, each inside its own slot") {
    Scheduler s(42);
    const TimePoint t0{};
    const int n = 100;
    s.set_jobs(jobs(n, "net", 10s), t0);
    auto starts = drive(s, t0, 9999ms, 1ms);
    REQUIRE(starts.size() == n);
    for (int i = 0; i < n; ++i) {
        TimePoint first = starts["t" + std::to_string(i)].at(0);
        // Slot i of 100 over 10 s is [i*100ms, (i+1)*100ms): the jitter stays inside it.
        CHECK(first >= t0 + i * 100ms);
        CHECK(first < t0 + (i + 1) * 100ms + 1ms);
    }
}

TEST_CASE("the spread of new jobs starts at the first due(), however late it comes") {
    Scheduler s(21);
    s.set_jobs(jobs(100, "net", 10s), TimePoint{});
    // The loop first asks 5 s later (the daemon had more to set up): half the slots have
    // passed, yet they do not all start at once.
    auto first = s.due(TimePoint{} + 5s);
    CHECK(first.size() <= 2);
    for (const auto& st : first)
        s.finished(st.handle);
    auto starts = drive(s, TimePoint{} + 5s + 1ms, 10s - 2ms, 1ms);
    std::size_t once = first.size();
    for (auto& [key, times] : starts) {
        once += times.size() == 1;
        CHECK(times.at(0) >= TimePoint{} + 5s);
    }
    CHECK(once == 100);  // each within one interval from then, spread as before
    std::map<long, int> per_second;
    for (auto& [key, times] : starts)
        ++per_second[std::chrono::duration_cast<std::chrono::seconds>(times[0] - TimePoint{})
                         .count()];
    for (auto& [second, n] : per_second)
        CHECK(n <= 12);  // about 10 a second
}

TEST_CASE("jitter differs between seeds, the spread does not") {
    Scheduler a(1), b(2);
    a.set_jobs(jobs(10, "net", 10s), TimePoint{});
    b.set_jobs(jobs(10, "net", 10s), TimePoint{});
    auto sa = drive(a, TimePoint{}, 10s, 1ms), sb = drive(b, TimePoint{}, 10s, 1ms);
    int same = 0;
    for (int i = 0; i < 10; ++i)
        same += sa["t" + std::to_string(i)][0] == sb["t" + std::to_string(i)][0];
    CHECK(same < 10);
}

TEST_CASE("each job keeps its phase: one start per interval") {
    Scheduler s(7);
    s.set_jobs(jobs(5, "net", 1s), TimePoint{});
    auto starts = drive(s, TimePoint{}, 10s - 1ms, 1ms);
    for (auto& [key, times] : starts) {
        CHECK(times.size() == 10);
        for (std::size_t i = 1; i < times.size(); ++i)
            CHECK(times[i] - times[i - 1] == 1s);
    }
}

TEST_CASE("a job still in flight is not stacked: the round is skipped and counted") {
    Scheduler s(3);
    auto handles = s.set_jobs(jobs(1, "net", 1s), TimePoint{});
    auto starts = drive(s, TimePoint{}, 5s, 1ms, /*finish_immediately=*/false);
    CHECK(starts["t0"].size() == 1);  // never finished, so never started again
    CHECK(s.overruns() >= 4);
    s.finished(handles.at(0));
    auto later = drive(s, TimePoint{} + 5s + 1ms, 2s, 1ms);
    CHECK(later["t0"].size() == 2);
}

TEST_CASE("the rate limit holds per destination network, other networks are unaffected") {
    Scheduler s(9);
    s.set_rate_limit("slow", 10, 1);  // 10 probes/s, no burst
    auto specs = jobs(100, "slow", 1s, "s");
    auto fast = jobs(100, "fast", 1s, "f");
    specs.insert(specs.end(), fast.begin(), fast.end());
    s.set_jobs(specs, TimePoint{});
    std::vector<TimePoint> slow_starts;
    std::size_t fast_count = 0;
    for (TimePoint now{}; now < TimePoint{} + 5s; now += 1ms) {
        for (const auto& st : s.due(now)) {
            if (name(st)[0] == 's')
                slow_starts.push_back(now);
            else
                ++fast_count;
            s.finished(st.handle);
        }
    }
    // 10/s for 5 s: at most 50 (+1 for rounding at the edge), evenly spaced by 100 ms.
    CHECK(slow_starts.size() <= 51);
    CHECK(slow_starts.size() >= 49);
    for (std::size_t i = 1; i < slow_starts.size(); ++i)
        CHECK(slow_starts[i] - slow_starts[i - 1] >= 100ms - 1ms);
    CHECK(fast_count == 500);  // 100 jobs at 1/s for 5 s
    CHECK(s.rate_limited().at("slow") > 0);
    CHECK(s.rate_limited().count("fast") == 0);
}

TEST_CASE("the rate limit allows its burst after a quiet spell") {
    RateLimiter r(10, 5);
    TimePoint t{};
    t += 10s;
    for (int i = 0; i < 5; ++i)
        CHECK(r.reserve(t) == t);
    CHECK(r.reserve(t) == t + 100ms);
}

TEST_CASE("a reload keeps unchanged jobs' phase and spreads only new ones") {
    Scheduler s(11);
    auto specs = jobs(4, "net", 1s);
    auto handles = s.set_jobs(specs, TimePoint{});
    auto before = drive(s, TimePoint{}, 2s - 1ms, 1ms);
    for (std::size_t i = 0; i < specs.size(); ++i)
        specs[i].previous = handles[i];
    specs.erase(specs.begin());                     // t0 leaves
    specs.push_back(jobs(1, "net", 1s, "new")[0]);  // a new one arrives
    auto next = s.set_jobs(specs, TimePoint{} + 2s);
    REQUIRE(next.size() == 4);
    for (std::size_t i = 0; i < 3; ++i)  // t1..t3 keep their handles
        CHECK(next[i].id == handles[i + 1].id);
    CHECK(next[3].id != 0);
    for (const JobHandle& h : handles)
        CHECK(next[3].id != h.id);
    CHECK(s.size() == 4);
    auto after = drive(s, TimePoint{} + 2s, 1s - 1ms, 1ms);
    CHECK(after.count("t0") == 0);
    CHECK(after["new0"].size() == 1);
    for (const char* k : {"t1", "t2", "t3"})
        CHECK(after[k].at(0) == before[k].at(1) + 1s);
}

TEST_CASE("a reload starts a job afresh when its interval changed or its handle is stale") {
    Scheduler s(12);
    auto specs = jobs(2, "net", 1s);
    auto handles = s.set_jobs(specs, TimePoint{});
    specs[0].previous = handles[0];
    specs[0].interval = 2s;          // same job, new interval: a new phase
    specs[1].previous = handles[0];  // a second claim on the same handle is not honoured
    auto next = s.set_jobs(specs, TimePoint{} + 500ms);
    CHECK(next[0].id != handles[0].id);
    CHECK(next[1].id != handles[0].id);
    CHECK(next[0].id != next[1].id);
    CHECK(s.size() == 2);
    // The dropped jobs' handles are stale: finished() ignores them, and a later set_jobs
    // cannot bring them back.
    s.finished(handles[0]);
    specs[0].previous = handles[1];
    specs[1].previous = next[1];
    auto again = s.set_jobs(specs, TimePoint{} + 600ms);
    CHECK(again[0].id != handles[1].id);
    CHECK(again[1].id == next[1].id);
    CHECK(s.size() == 2);
}

TEST_CASE(
    "a job reloaded with a new interval while in flight waits for finished() on its new handle") {
    Scheduler s(12);
    auto specs = jobs(1, "net", 2s);
    auto old = s.set_jobs(specs, TimePoint{}, false);
    REQUIRE(s.due(TimePoint{}).size() == 1);  // its round is out
    specs[0].previous = old[0];
    specs[0].interval = 1s;
    auto h = s.set_jobs(specs, TimePoint{} + 50ms, false);
    REQUIRE(h[0].id != old[0].id);
    CHECK(s.due(TimePoint{} + 100ms).empty());
    CHECK(s.due(TimePoint{} + 1100ms).empty());
    CHECK(s.overruns() == 2);
    s.finished(h[0]);
    auto st = s.due(TimePoint{} + 2050ms);  // its phase is set_jobs' time, 50 ms
    REQUIRE(st.size() == 1);
    CHECK(st[0].handle.id == h[0].id);
}

TEST_CASE("lag is reported against the nominal time") {
    Scheduler s(5);
    s.set_jobs(jobs(1, "net", 1s), TimePoint{});
    CHECK(s.due(TimePoint{}).empty());        // the spread starts here
    auto late = s.due(TimePoint{} + 1500ms);  // then the loop woke late
    REQUIRE(late.size() == 1);
    CHECK(late[0].lag > 500ms);
    CHECK(late[0].lag <= 1500ms);
}

TEST_CASE("next_wakeup names the earliest due job") {
    Scheduler s(5);
    CHECK_FALSE(s.next_wakeup());
    s.set_jobs(jobs(2, "net", 2s), TimePoint{});
    auto w = s.next_wakeup();
    REQUIRE(w);
    CHECK(*w < TimePoint{} + 1s);
}

TEST_CASE("slack lets a job start early by at most a tenth of its own interval, and skips none") {
    // Returns each job's start times and the number of wake-ups over 10 s, driven as the loop
    // drives it: sleep until next_wakeup, take what is due.
    auto run = [](Duration interval) {
        Scheduler s(17);
        s.set_slack(100ms);
        s.set_jobs(jobs(100, "net", interval), TimePoint{});
        std::map<std::string, std::vector<TimePoint>> starts;
        std::size_t wakeups = 0;
        for (auto w = s.next_wakeup(); w && *w < TimePoint{} + 10s; w = s.next_wakeup()) {
            ++wakeups;
            for (const auto& st : s.due(*w)) {
                starts[name(st)].push_back(*w);
                s.finished(st.handle);
            }
        }
        CHECK(s.overruns() == 0);
        return std::pair{starts, wakeups};
    };
    SUBCASE("200 ms: at most 20 ms early, every round") {
        auto [starts, wakeups] = run(200ms);
        for (auto& [key, times] : starts) {
            CHECK(times.size() >= 50);  // 10 s / 200 ms; one more when the last comes early
            CHECK(times.size() <= 51);
            for (std::size_t k = 1; k < times.size(); ++k) {
                CHECK(times[k] - times[k - 1] >= 180ms);
                CHECK(times[k] - times[k - 1] <= 220ms);
            }
        }
    }
    SUBCASE("2 s: the whole 100 ms is used, so 500 starts take about 100 wake-ups") {
        auto [starts, wakeups] = run(2s);
        std::size_t total = 0;
        for (auto& [key, times] : starts)
            total += times.size();
        CHECK(total >= 500);
        CHECK(wakeups <= 10s / 100ms + 5);
    }
}

TEST_CASE("with slack, jobs due close together start in one wake-up, never late, phase kept") {
    Scheduler s(13);
    s.set_slack(5ms);
    s.set_jobs(jobs(1000, "net", 1s), TimePoint{});
    std::size_t wakeups = 0, started = 0;
    std::map<std::string, std::vector<TimePoint>> starts;
    // Drive it as the event loop does: sleep until next_wakeup, then take what is due.
    for (auto w = s.next_wakeup(); w && *w < TimePoint{} + 3s; w = s.next_wakeup()) {
        ++wakeups;
        for (const auto& st : s.due(*w)) {
            CHECK(st.lag == 0ns);
            starts[name(st)].push_back(*w);
            s.finished(st.handle);
            ++started;
        }
    }
    CHECK(started >= 2990);
    CHECK(wakeups <= 3 * 1000 / 5 + 3);  // about one wake-up per 5 ms, not one per job
    for (auto& [key, times] : starts)
        for (std::size_t k = 1; k < times.size(); ++k) {
            auto drift = (times[k] - times[0]) -
                         static_cast<long>(k) * 1s;  // early by at most the slack, never drifting
            CHECK(drift > -5ms);
            CHECK(drift < 5ms);
        }
}
