// The store: a series per job, kept across reloads, written by the probing thread.
// Rendering is job_series_render.cpp, the status page's rows job_series_status.cpp.
#include "exporters/job_series.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/clock.hpp"

namespace fedprobe {

std::vector<JobSeriesSet::Series*> JobSeriesSet::sync(const std::vector<Wanted>& jobs) {
    std::unique_lock lock(structure_mutex_);
    std::vector<std::unique_ptr<Series>> next;
    next.reserve(jobs.size());
    std::vector<Series*> handles;
    handles.reserve(jobs.size());
    for (const Wanted& w : jobs) {
        PackedLabels sorted(w.labels, names_);
        auto probe = w.labels.find("probe");
        auto kind = kind_index(probe == w.labels.end() ? "" : probe->second);
        if (!kind) {  // not a probe job
            handles.push_back(nullptr);
            continue;
        }
        // Its own series, still in this set (a series knows its place, so no map is needed),
        // not yet claimed, with the same labels and kind: kept as it is.
        Series* old = w.previous;
        if (old && old->place < order_.size() && order_[old->place].get() == old &&
            old->labels == sorted && old->kind == *kind) {
            next.push_back(std::move(order_[old->place]));
        } else {
            auto s = std::make_unique<Series>();
            s->labels = std::move(sorted);
            s->kind = *kind;
            s->success.store(std::numeric_limits<double>::quiet_NaN());  // not probed yet
            if (visit_kind(*kind, []<typename K>() { return K::kCommonDuration; }))
                s->duration =
                    std::make_unique<AtomicHistogram<kDurationBuckets.size()>>(kDurationBuckets);
            s->own = visit_kind(*kind, []<typename K>() { return K::make_series(); });
            next.push_back(std::move(s));
        }
        // The expectation may change with the policy while the labels stay: taken every time.
        Series& kept = *next.back();
        kept.expect = w.expect;
        if (w.expect.kind == ExpectedResult::Kind::success)
            kept.expect_because.reset();
        else if (!kept.expect_because || *kept.expect_because != w.expect_because)
            kept.expect_because = std::make_unique<const std::string>(w.expect_because);
        next.back()->place = static_cast<std::uint32_t>(next.size() - 1);
        handles.push_back(next.back().get());
    }
    order_ = std::move(next);  // departed jobs' series go with the old table
    return handles;
}

double JobSeriesSet::Series::as_expected() const {
    const std::uint8_t o = last_outcome.load(std::memory_order_relaxed);
    if (o == kNoOutcome) return std::numeric_limits<double>::quiet_NaN();
    return expect.met_by(static_cast<Outcome>(o)) ? 1 : 0;
}

std::size_t JobSeriesSet::size() const {
    std::shared_lock lock(structure_mutex_);
    return order_.size();
}

void JobSeriesSet::record(Series* s, const ProbeResult& r, const std::string& reporter_network) {
    if (!s) return;
    s->success.store(r.outcome == Outcome::ok ? 1 : 0, std::memory_order_relaxed);
    s->outcomes[static_cast<std::size_t>(r.outcome)].fetch_add(1, std::memory_order_relaxed);
    if (s->duration) s->duration->observe(to_seconds(r.duration));
    s->own->record(r);
    const auto outcome = static_cast<std::uint8_t>(r.outcome);
    if (s->last_outcome.load(std::memory_order_relaxed) != outcome) {
        s->last_change.store(static_cast<double>(realtime_ns()) / 1e9, std::memory_order_relaxed);
        s->last_outcome.store(outcome, std::memory_order_relaxed);
    }
    // The last-error series changes rarely; only then is a lock taken. Its strings live only
    // while the job fails, so a healthy job does not carry them.
    const bool failing = r.outcome != Outcome::ok;
    const std::string reporter = failing && r.reporter ? r.reporter->str() : std::string();
    const Series::LastError* was = s->last_error.get();  // this thread is its only writer
    if (!failing && !was) return;
    if (failing && was && was->outcome == r.outcome && was->reporter == reporter) return;
    std::unique_ptr<Series::LastError> now;
    if (failing)
        now = std::make_unique<Series::LastError>(
            Series::LastError{r.outcome, reporter, r.reporter ? reporter_network : ""});
    std::lock_guard lock(errors_mutex_);
    s->last_error.swap(now);
}

}  // namespace fedprobe
