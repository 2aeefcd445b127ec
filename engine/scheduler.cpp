#include "engine/scheduler.hpp"

#include <algorithm>

namespace fedprobe {

std::uint32_t Scheduler::limit_index(std::string_view network) const {
    auto it = limit_by_network_.find(network);
    return it == limit_by_network_.end() ? kNoLimit : it->second;
}

void Scheduler::set_rate_limit(std::string_view network, double per_second, double burst) {
    RateLimiter fresh(per_second, burst);
    std::uint32_t i = limit_index(network);
    if (i == kNoLimit) {
        limits_.push_back(Limit{std::string(network), nullptr, 0});
        i = static_cast<std::uint32_t>(limits_.size() - 1);
        limit_by_network_.emplace(std::string(network), i);
    }
    auto& slot = limits_[i].limiter;
    // An unchanged limit keeps its state across a reload, and its users (path probes pace
    // every packet with it) keep sharing it.
    if (slot && slot->spacing() == fresh.spacing() && slot->tolerance() == fresh.tolerance())
        return;
    slot = std::make_shared<RateLimiter>(fresh);
}

std::shared_ptr<RateLimiter> Scheduler::limiter(std::string_view network) const {
    std::uint32_t i = limit_index(network);
    return i == kNoLimit ? nullptr : limits_[i].limiter;
}

std::map<std::string, std::uint64_t> Scheduler::rate_limited() const {
    std::map<std::string, std::uint64_t> out;
    for (const Limit& l : limits_)
        if (l.held_back) out[l.network] = l.held_back;
    return out;
}

bool Scheduler::current(const Entry& e) const {
    return e.index < jobs_.size() && jobs_[e.index].id != 0 && jobs_[e.index].version == e.version;
}

void Scheduler::push_entry(const Entry& e) {
    queue_.push(e, jobs_[e.index].interval);
}

Scheduler::Job* Scheduler::find(JobHandle h) {
    if (h.id == 0 || h.index >= jobs_.size() || jobs_[h.index].id != h.id) return nullptr;
    return &jobs_[h.index];
}

void Scheduler::push(std::uint32_t index, TimePoint when) {
    Job& job = jobs_[index];
    job.version = next_version_++;
    push_entry(Entry{when, index, job.version});
}

std::vector<JobHandle> Scheduler::set_jobs(std::span<const JobSpec> specs, TimePoint now,
                                           bool spread) {
    if (!unanchored_.empty()) anchor(now);  // the previous set's new jobs, never yet due
    std::vector<JobHandle> handles(specs.size());
    // Kept: a live job named by the first spec that names it, with the same interval.
    // Everything else goes.
    std::vector<bool> named(jobs_.size(), false), kept(jobs_.size(), false);
    // Each new job, and whether the job it replaces (same handle, new interval) still has a
    // round out: then it starts in flight, so finished() on the new handle ends that round and
    // the job never stacks on it.
    std::vector<std::pair<std::size_t, bool>> fresh;
    for (std::size_t i = 0; i < specs.size(); ++i) {
        const JobSpec& s = specs[i];
        Job* job = find(s.previous);
        const bool first = job && !named[s.previous.index];
        if (job) named[s.previous.index] = true;
        if (first && job->interval == s.interval) {
            kept[s.previous.index] = true;
            job->user = s.user;
            job->limit = limit_index(s.network);  // the network may change; the phase stays
            handles[i] = s.previous;
        } else {
            fresh.emplace_back(i, first && job->in_flight);
        }
    }
    for (std::uint32_t index = 0; index < jobs_.size(); ++index) {
        if (jobs_[index].id == 0 || kept[index]) continue;
        jobs_[index] = Job{};  // its queued entries go stale with it
        free_slots_.push_back(index);
        --live_;
    }

    // Exactly the room needed: doubling growth would leave up to half the table as slack.
    if (fresh.size() > free_slots_.size())
        jobs_.reserve(jobs_.size() + fresh.size() - free_slots_.size());
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const double n = static_cast<double>(fresh.size());
    for (std::size_t i = 0; i < fresh.size(); ++i) {
        const auto [spec, busy] = fresh[i];
        const JobSpec& s = specs[spec];
        // Slot i of n over the interval, at a random point inside the slot.
        double fraction = spread ? (static_cast<double>(i) + unit(rng_)) / n : 0.0;
        auto offset = std::chrono::duration_cast<Clock::duration>(s.interval * fraction);
        std::uint32_t index;
        if (!free_slots_.empty()) {
            index = free_slots_.back();
            free_slots_.pop_back();
        } else {
            index = static_cast<std::uint32_t>(jobs_.size());
            jobs_.emplace_back();
        }
        Job& job = jobs_[index];
        job = Job{};
        job.nominal = now + offset;
        job.interval = s.interval;
        job.user = s.user;
        job.id = next_id_++;
        job.in_flight = busy;
        job.limit = limit_index(s.network);
        ++live_;
        push(index, job.nominal);
        handles[spec] = JobHandle{index, job.id};
        unanchored_.push_back(handles[spec]);
    }
    set_at_ = now;
    return handles;
}

void Scheduler::anchor(TimePoint now) {
    // New jobs were spread from the time of set_jobs; if the first due() comes later (the
    // daemon had more to set up, a sink took long over a reload), their spread starts now
    // instead, or every slot that passed meanwhile would start at once: a burst of probes, and
    // of rounds in flight, at 100,000 targets.
    const auto delay = now - set_at_;
    if (delay > Clock::duration::zero()) {
        std::vector<JobHandle> moved;
        for (JobHandle h : unanchored_)
            if (Job* job = find(h); job && !job->in_flight) {
                job->nominal += delay;
                job->version = next_version_++;
                moved.push_back(h);
            }
        // Their old entries (now stale) go, rather than leave the queue twice its size.
        queue_.erase_if([this](const Entry& e) { return !current(e); });
        for (JobHandle h : moved)
            push_entry(Entry{jobs_[h.index].nominal, h.index, jobs_[h.index].version});
    }
    unanchored_.clear();
    unanchored_.shrink_to_fit();
}

std::vector<Scheduler::Start> Scheduler::due(TimePoint now) {
    if (!unanchored_.empty()) anchor(now);
    std::vector<Start> out;
    std::vector<Entry> not_yet;
    const auto slack = std::chrono::duration_cast<Clock::duration>(slack_);
    while (auto due = queue_.pop_due(now + slack)) {
        const Entry e = *due;
        if (!current(e)) continue;
        Job& job = jobs_[e.index];
        const auto interval = std::chrono::duration_cast<Clock::duration>(job.interval);
        // Early by at most a tenth of the job's own interval, however long the slack: a short
        // interval keeps its spacing, and its next slot never falls inside this wake-up.
        const TimePoint horizon = now + std::min(slack, interval / 10);
        if (e.when > horizon) {
            not_yet.push_back(e);
            continue;
        }
        auto advance = [&] {
            job.slot.reset();
            job.nominal += interval;
            // Far behind (a suspended machine, a long stall): skip the missed rounds, keep the
            // phase.
            if (job.nominal <= horizon) {
                auto missed = (horizon - job.nominal) / interval + 1;
                job.nominal += interval * missed;
            }
            push(e.index, job.nominal);
        };
        if (job.in_flight) {
            ++overruns_;  // never stack a round on an unfinished one
            advance();
            continue;
        }
        if (!job.slot && job.limit != kNoLimit) {
            Limit& limit = limits_[job.limit];
            if (limit.limiter) {
                TimePoint eligible = limit.limiter->reserve(now);
                if (eligible > now) {
                    ++limit.held_back;
                    job.slot = eligible;
                    push(e.index, eligible);
                    continue;
                }
            }
        }
        const TimePoint slot = job.slot ? std::max(*job.slot, job.nominal) : job.nominal;
        out.push_back(
            Start{std::max(Duration{0}, std::chrono::duration_cast<Duration>(now - job.nominal)),
                  std::max(Duration{0}, std::chrono::duration_cast<Duration>(now - slot)), job.user,
                  JobHandle{e.index, job.id}});
        job.in_flight = true;
        advance();
    }
    for (const Entry& e : not_yet)
        push_entry(e);
    return out;
}

void Scheduler::finished(JobHandle h) {
    if (Job* job = find(h)) job->in_flight = false;
}

std::optional<TimePoint> Scheduler::next_wakeup() {
    while (!queue_.empty()) {
        const Entry& e = queue_.top();
        if (current(e)) return e.when;
        queue_.pop();
    }
    return std::nullopt;
}

}  // namespace fedprobe
