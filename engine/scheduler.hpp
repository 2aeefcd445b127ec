// Decides when each (target, probe) job runs: spread first runs over the interval with jitter,
// keep each job's phase, never stack a job on its own unfinished run, and respect the
// per-network rate limit. Pure logic: time comes in as an argument, so tests inject a clock.
// Not thread-safe: the engine's thread only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "core/duration.hpp"
#include "core/rate_limiter.hpp"

namespace fedprobe {

struct JobSpec {
    std::string key;      // stable identity across reloads: "target/probe"
    std::string network;  // destination network, for the rate limit
    Duration interval{};
    void* user = nullptr;  // the caller's own record, handed back with each start
};

// Names one job for finished() without a string lookup; stale handles are ignored.
struct JobHandle {
    std::size_t index = 0;
    std::uint64_t id = 0;
};

class Scheduler {
  public:
    explicit Scheduler(std::uint64_t seed = std::random_device{}()) : rng_(seed) {}

    // Jobs due within `slack` of now start together, so one wake-up serves many probes; a job
    // starts early by at most a tenth of its own interval, whatever the slack. Default 0: exact.
    void set_slack(Duration slack) { slack_ = slack; }

    // Rate for a destination network (probes/s); networks without one are unlimited.
    void set_rate_limit(const std::string& network, double per_second, double burst);
    // The limiter of a destination network (null: unlimited), shared with probes that send
    // more than one packet per round, so each of their packets counts against the same limit.
    std::shared_ptr<RateLimiter> limiter(const std::string& network) const;

    struct Change {
        std::vector<std::string> added, removed, kept;
    };
    // Replaces the job set. Kept jobs (same key and interval) keep their phase, so a reload never
    // bursts; new jobs are spread evenly over their interval with jitter inside their slot, or,
    // with spread = false, are all due at once (within the rate limit).
    Change set_jobs(const std::vector<JobSpec>& jobs, TimePoint now, bool spread = true);

    struct Start {
        std::string_view key;  // valid until the next set_jobs()
        Duration lag{};        // how late against the job's nominal time (rate limit, loop delay)
        Duration late{};       // how late against its slot: the loop's delay alone
        void* user = nullptr;
        JobHandle handle;
    };
    // Jobs to start now; each is marked in flight until finished().
    std::vector<Start> due(TimePoint now);
    void finished(JobHandle handle);
    void finished(const std::string& key);

    std::optional<TimePoint> next_wakeup();
    std::size_t size() const { return by_key_.size(); }
    std::uint64_t overruns() const { return overruns_; }  // rounds skipped: the previous still ran
    const std::map<std::string, std::uint64_t>& rate_limited() const { return rate_limited_; }

  private:
    struct Job {
        JobSpec spec;
        TimePoint nominal{};            // when the next round should start
        std::optional<TimePoint> slot;  // a rate-limit reservation for this round
        bool in_flight = false;
        std::uint64_t version = 0;  // invalidates stale heap entries
        std::uint64_t id = 0;       // this job's identity for handles
    };
    struct Entry {
        TimePoint when;
        std::size_t index;
        std::uint64_t version;
        bool operator>(const Entry& o) const { return when > o.when; }
    };

    std::mt19937_64 rng_;
    std::vector<std::optional<Job>> jobs_;
    std::vector<std::size_t> free_slots_;
    std::unordered_map<std::string, std::size_t> by_key_;
    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap_;
    std::map<std::string, std::shared_ptr<RateLimiter>> limits_;
    std::uint64_t overruns_ = 0;
    std::map<std::string, std::uint64_t> rate_limited_;
    std::uint64_t next_version_ = 1;
    std::uint64_t next_id_ = 1;
    Duration slack_{0};

    void push(std::size_t index, TimePoint when);
};

}  // namespace fedprobe
