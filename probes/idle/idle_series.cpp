// The idle kind's series: the bounds, the cuts by how, the sessions open, and the finding.
#include <atomic>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "probes/idle/idle_kind.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

namespace {

class IdleSeries : public KindSeries {
  public:
    void record(const ProbeResult& r) override {
        const IdleResult* i = r.as<IdleKind>();
        if (!i) return;
        lower_.store(i->lower > 0 ? i->lower : std::numeric_limits<double>::quiet_NaN(),
                     std::memory_order_relaxed);
        upper_.store(i->upper, std::memory_order_relaxed);
        for (std::size_t c = 0; c < cuts_.size(); ++c)
            cuts_[c].store(i->cuts[c], std::memory_order_relaxed);
        sessions_.store(i->sessions_open, std::memory_order_relaxed);
        required_.store(i->required ? *i->required : -1, std::memory_order_relaxed);
    }
    void render(std::size_t family, SeriesWriter& out) const override {
        const double required = required_.load(std::memory_order_relaxed);
        switch (family) {
            case 0:
                return out.value({}, lower_.load(std::memory_order_relaxed));
            case 1:
                return out.value({}, upper_.load(std::memory_order_relaxed));
            case 2:
                for (std::size_t c = 0; c < cuts_.size(); ++c)
                    out.value({{"how", to_string(kAllIdleCuts[c])}},
                              static_cast<double>(cuts_[c].load(std::memory_order_relaxed)));
                return;
            case 3:
                return out.value({}, sessions_.load(std::memory_order_relaxed));
            case 4:
                if (required >= 0)
                    out.value({}, upper_.load(std::memory_order_relaxed) < required ? 1 : 0);
                return;
            case 5:
                if (required >= 0) out.value({}, required);
                return;
            default:
                return;
        }
    }

    std::string status_note() const override {
        const double lower = lower_.load(std::memory_order_relaxed);
        const double upper = upper_.load(std::memory_order_relaxed);
        const double required = required_.load(std::memory_order_relaxed);
        if (!std::isfinite(upper)) return {};  // nothing cut up to the maximum
        char text[160];
        if (std::isnan(lower))
            std::snprintf(text, sizeof text, "sessions cut after at most %g s idle", upper);
        else
            std::snprintf(text, sizeof text, "sessions cut after %g-%g s idle", lower, upper);
        std::string out = text;
        if (required >= 0 && upper < required) {
            std::snprintf(text, sizeof text, ", below the %g s required", required);
            out += text;
        }
        return out + ", on the way to this target";
    }

  private:
    std::atomic<double> lower_{std::numeric_limits<double>::quiet_NaN()};
    std::atomic<double> upper_{std::numeric_limits<double>::infinity()};
    std::array<std::atomic<std::uint64_t>, kAllIdleCuts.size()> cuts_{};
    std::atomic<std::uint32_t> sessions_{0};
    std::atomic<double> required_{-1};
};

}  // namespace

std::unique_ptr<KindSeries> IdleKind::make_series() {
    return std::make_unique<IdleSeries>();
}

}  // namespace fedprobe
