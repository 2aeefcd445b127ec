// Decides when each (target, probe) job runs: spread first runs over the interval with jitter,
// keep each job's phase, never stack a job on its own unfinished run, and respect the
// per-network rate limit. Pure logic: time comes in as an argument, so tests inject a clock.
// Not thread-safe: the engine's thread only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/due_queue.hpp"
#include "core/duration.hpp"
#include "core/rate_limiter.hpp"

namespace fedprobe {

// Names one job of the scheduler without a string: for finished(), and for the next
// set_jobs(), which keeps the job (and its phase) when its spec hands the handle back. Stale
// handles are ignored.
struct JobHandle {
    std::uint32_t index = 0;
    std::uint64_t id = 0;  // 0: no job
};

// One job as the caller wants it scheduled. The scheduler keeps no key or network name of its
// own: at 100,000 jobs a string-keyed map and two strings per job cost 19 MB.
struct JobSpec {
    Duration interval{};
    std::string_view network;  // destination network, for the rate limit (read in set_jobs only)
    void* user = nullptr;      // the caller's own record, handed back with each start
    JobHandle previous;        // the job's handle from the last set_jobs; {} for a new job
};

class Scheduler {
  public:
    explicit Scheduler(std::uint64_t seed = std::random_device{}()) : rng_(seed) {}

    // Jobs due within `slack` of now start together, so one wake-up serves many probes; a job
    // starts early by at most a tenth of its own interval, whatever the slack. Default 0: exact.
    void set_slack(Duration slack) { slack_ = slack; }

    // Rate for a destination network (probes/s); networks without one are unlimited.
    void set_rate_limit(std::string_view network, double per_second, double burst);
    // The limiter of a destination network (null: unlimited), shared with probes that send
    // more than one packet per round, so each of their packets counts against the same limit.
    std::shared_ptr<RateLimiter> limiter(std::string_view network) const;

    // Replaces the job set and returns each spec's handle, in order. A spec whose `previous`
    // names a live job with the same interval keeps that job and its phase, so a reload never
    // bursts; the jobs no spec names are dropped. New jobs are spread evenly over their interval
    // with jitter inside their slot, or, with spread = false, are all due at once (within the
    // rate limit); the spread starts at the first due() after this, however late that comes.
    std::vector<JobHandle> set_jobs(std::span<const JobSpec> jobs, TimePoint now,
                                    bool spread = true);

    struct Start {
        Duration lag{};   // how late against the job's nominal time (rate limit, loop delay)
        Duration late{};  // how late against its slot: the loop's delay alone
        void* user = nullptr;
        JobHandle handle;
    };
    // Jobs to start now; each is marked in flight until finished().
    std::vector<Start> due(TimePoint now);
    void finished(JobHandle handle);

    std::optional<TimePoint> next_wakeup();
    std::size_t size() const { return live_; }
    std::uint64_t overruns() const { return overruns_; }  // rounds skipped: the previous still ran
    // Rounds held back by a network's rate limit, by network (those never limited are absent).
    std::map<std::string, std::uint64_t> rate_limited() const;

  private:
    static constexpr std::uint32_t kNoLimit = UINT32_MAX;
    struct Job {
        TimePoint nominal{};            // when the next round should start
        std::optional<TimePoint> slot;  // a rate-limit reservation for this round
        Duration interval{};
        void* user = nullptr;
        std::uint64_t version = 0;       // invalidates stale queue entries
        std::uint64_t id = 0;            // this job's identity for handles; 0: a free slot
        std::uint32_t limit = kNoLimit;  // index into limits_
        bool in_flight = false;
    };
    struct Entry {
        TimePoint when;
        std::uint32_t index;
        std::uint64_t version;
    };
    struct Limit {
        std::string network;
        std::shared_ptr<RateLimiter> limiter;
        std::uint64_t held_back = 0;
    };

    std::mt19937_64 rng_;
    std::vector<Job> jobs_;
    std::vector<std::uint32_t> free_slots_;
    std::size_t live_ = 0;
    DueQueue<Entry> queue_;      // each job's next start, with stale entries among them
    std::vector<Limit> limits_;  // a network keeps its index for the scheduler's life
    std::map<std::string, std::uint32_t, std::less<>> limit_by_network_;
    std::uint64_t overruns_ = 0;
    std::uint64_t next_version_ = 1;
    std::uint64_t next_id_ = 1;
    Duration slack_{0};

    // Jobs new in the last set_jobs, not yet started: their spread begins at the first due().
    std::vector<JobHandle> unanchored_;
    TimePoint set_at_{};

    Job* find(JobHandle h);
    void anchor(TimePoint now);
    bool current(const Entry& e) const;  // not made stale by a later push or a removal
    void push_entry(const Entry& e);
    std::uint32_t limit_index(std::string_view network) const;
    void push(std::uint32_t index, TimePoint when);
};

}  // namespace fedprobe
