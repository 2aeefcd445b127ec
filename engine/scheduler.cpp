#include "engine/scheduler.hpp"

#include <algorithm>

namespace fedprobe {

void Scheduler::set_rate_limit(const std::string& network, double per_second, double burst) {
    RateLimiter fresh(per_second, burst);
    auto& slot = limits_[network];
    // An unchanged limit keeps its state across a reload, and its users (path probes pace
    // every packet with it) keep sharing it.
    if (slot && slot->spacing() == fresh.spacing() && slot->tolerance() == fresh.tolerance())
        return;
    slot = std::make_shared<RateLimiter>(fresh);
}

std::shared_ptr<RateLimiter> Scheduler::limiter(const std::string& network) const {
    auto it = limits_.find(network);
    return it == limits_.end() ? nullptr : it->second;
}

void Scheduler::push(std::size_t index, TimePoint when) {
    Job& job = *jobs_[index];
    job.version = next_version_++;
    heap_.push(Entry{when, index, job.version});
}

Scheduler::Change Scheduler::set_jobs(const std::vector<JobSpec>& specs, TimePoint now,
                                      bool spread) {
    Change change;
    std::unordered_map<std::string, const JobSpec*> wanted;
    for (const auto& s : specs)
        wanted[s.key] = &s;

    for (auto it = by_key_.begin(); it != by_key_.end();) {
        auto w = wanted.find(it->first);
        Job& job = *jobs_[it->second];
        if (w != wanted.end() && w->second->interval == job.spec.interval) {
            job.spec = *w->second;  // network may change; phase stays
            change.kept.push_back(it->first);
            ++it;
        } else {
            change.removed.push_back(it->first);
            jobs_[it->second].reset();
            free_slots_.push_back(it->second);
            it = by_key_.erase(it);
        }
    }

    std::vector<const JobSpec*> fresh;
    for (const auto& s : specs)
        if (!by_key_.count(s.key)) fresh.push_back(&s);
    // Exactly the room needed: doubling growth would leave up to half the table as slack.
    if (fresh.size() > free_slots_.size())
        jobs_.reserve(jobs_.size() + fresh.size() - free_slots_.size());
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const double n = static_cast<double>(fresh.size());
    for (std::size_t i = 0; i < fresh.size(); ++i) {
        const JobSpec& s = *fresh[i];
        // Slot i of n over the interval, at a random point inside the slot.
        double fraction = spread ? (static_cast<double>(i) + unit(rng_)) / n : 0.0;
        auto offset = std::chrono::duration_cast<Clock::duration>(s.interval * fraction);
        std::size_t index;
        if (!free_slots_.empty()) {
            index = free_slots_.back();
            free_slots_.pop_back();
        } else {
            index = jobs_.size();
            jobs_.emplace_back();
        }
        jobs_[index] = Job{s, now + offset, std::nullopt, false, 0, next_id_++};
        by_key_[s.key] = index;
        push(index, now + offset);
        change.added.push_back(s.key);
    }
    return change;
}

std::vector<Scheduler::Start> Scheduler::due(TimePoint now) {
    std::vector<Start> out;
    std::vector<Entry> not_yet;
    const auto slack = std::chrono::duration_cast<Clock::duration>(slack_);
    while (!heap_.empty() && heap_.top().when <= now + slack) {
        Entry e = heap_.top();
        heap_.pop();
        if (e.index >= jobs_.size() || !jobs_[e.index] || jobs_[e.index]->version != e.version)
            continue;
        Job& job = *jobs_[e.index];
        const auto interval = std::chrono::duration_cast<Clock::duration>(job.spec.interval);
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
        if (!job.slot) {
            auto limit = limits_.find(job.spec.network);
            if (limit != limits_.end()) {
                TimePoint eligible = limit->second->reserve(now);
                if (eligible > now) {
                    ++rate_limited_[job.spec.network];
                    job.slot = eligible;
                    push(e.index, eligible);
                    continue;
                }
            }
        }
        const TimePoint slot = job.slot ? std::max(*job.slot, job.nominal) : job.nominal;
        out.push_back(
            Start{job.spec.key,
                  std::max(Duration{0}, std::chrono::duration_cast<Duration>(now - job.nominal)),
                  std::max(Duration{0}, std::chrono::duration_cast<Duration>(now - slot)),
                  job.spec.user, JobHandle{e.index, job.id}});
        job.in_flight = true;
        advance();
    }
    for (const Entry& e : not_yet)
        heap_.push(e);
    return out;
}

void Scheduler::finished(JobHandle h) {
    if (h.index < jobs_.size() && jobs_[h.index] && jobs_[h.index]->id == h.id)
        jobs_[h.index]->in_flight = false;
}

void Scheduler::finished(const std::string& key) {
    auto it = by_key_.find(key);
    if (it != by_key_.end()) jobs_[it->second]->in_flight = false;
}

std::optional<TimePoint> Scheduler::next_wakeup() {
    while (!heap_.empty()) {
        const Entry& e = heap_.top();
        if (e.index < jobs_.size() && jobs_[e.index] && jobs_[e.index]->version == e.version)
            return e.when;
        heap_.pop();
    }
    return std::nullopt;
}

}  // namespace fedprobe
