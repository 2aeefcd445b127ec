// An mllp job's own series: the last acknowledgement code and the last reset's distance.
#include <mutex>

#include "probes/mllp/mllp_kind.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

namespace {

class MllpSeries : public KindSeries {
  public:
    void record(const ProbeResult& r) override {
        const MllpResult* m = r.as<MllpKind>();
        std::lock_guard lock(mu_);
        if (m && !m->ack.empty()) ack_ = m->ack;  // kept: the last code that came
        reset_hops_ = m ? m->reset_hops : -1;
    }
    void render(std::size_t family, SeriesWriter& out) const override {
        std::lock_guard lock(mu_);
        if (family == 0) {
            if (!ack_.empty()) out.value({{"code", ack_}}, 1);
        } else {
            out.value({}, reset_hops_);
        }
    }

  private:
    mutable std::mutex mu_;  // a scrape reads while the probing thread records
    std::string ack_;        // one of a fixed few (mllp_ack_label)
    int reset_hops_ = -1;
};

}  // namespace

std::unique_ptr<KindSeries> MllpKind::make_series() {
    return std::make_unique<MllpSeries>();
}

}  // namespace fedprobe
