// A dicom job's own series: the last rejection and echo status; and the TLS facts and reset.
#include <mutex>

#include "probes/dicom/dicom_kind.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

namespace {

class DicomSeries : public KindSeries {
  public:
    void record(const ProbeResult& r) override {
        const DicomResult* d = r.as<DicomKind>();
        facts_.record(d ? d->app : AppFacts{});
        std::lock_guard lock(mu_);
        last_ = d ? *d : DicomResult{};
    }
    void render(std::size_t family, SeriesWriter& out) const override {
        if (family >= 2) return facts_.render(family - 2, out);
        std::lock_guard lock(mu_);
        if (family == 1) return out.value({}, last_.echo_status);
        if (!last_.reject_result.empty())
            out.value({{"result", last_.reject_result},
                       {"source", last_.reject_source},
                       {"reason", last_.reject_reason}},
                      1);
    }

  private:
    mutable std::mutex mu_;  // a scrape reads while the probing thread records
    DicomResult last_;       // its labels are from fixed sets (dicom_pdu.hpp)
    AppFactsSeries facts_;
};

}  // namespace

std::unique_ptr<KindSeries> DicomKind::make_series() {
    return std::make_unique<DicomSeries>();
}

}  // namespace fedprobe
