// The status page's rows from the job series: each job's outcome, expectation, reporter and,
// for a kind that traces, its path. Any thread (the series are read as a scrape reads them).
#include "exporters/job_series.hpp"

namespace fedprobe {

void JobSeriesSet::fill_status(StatusView& view) const {
    std::shared_lock lock(structure_mutex_);
    for (const auto& s : order_) {
        StatusView::Probe p;
        for (auto& [name, value] : s->labels.unpack(names_)) {
            if (name == "target")
                p.target = value;
            else if (name == "network")
                p.network = value;
            else if (name == "probe")
                p.probe = value;
            else if (name == "service")
                p.service = value;
            else if (name != "site")
                p.labels[name] = value;
        }
        const std::uint8_t o = s->last_outcome.load(std::memory_order_relaxed);
        if (o != Series::kNoOutcome) p.outcome = to_string(static_cast<Outcome>(o));
        p.last_change = s->last_change.load(std::memory_order_relaxed);
        if (s->expect.kind != ExpectedResult::Kind::success) {
            p.expect = s->expect.word();
            if (s->expect_because) p.expect_because = *s->expect_because;
        }
        p.as_expected = s->as_expected() == 1;
        {
            std::lock_guard errors(errors_mutex_);
            if (const Series::LastError* le = s->last_error.get()) {
                p.reporter = le->reporter;
                p.reporter_network = le->reporter_network;
            }
        }
        p.note = s->own->status_note();
        // The kind's own rows, if it traces (no kind is named here).
        if (auto traced = s->own->traced_path(); traced && !traced->hops.empty()) {
            StatusView::Path path{p.target, p.service, std::move(traced->stop), {}};
            for (auto& h : traced->hops)
                path.hops.push_back({std::move(h.ttl), std::move(h.hop), std::move(h.network)});
            view.paths.push_back(std::move(path));
        }
        view.probes.push_back(std::move(p));
    }
}

}  // namespace fedprobe
