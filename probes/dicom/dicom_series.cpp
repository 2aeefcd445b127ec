// A dicom job's own series: the last rejection, the last echo status, the last reset's distance.
#include <mutex>

#include "probes/dicom/dicom_kind.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

namespace {

class DicomSeries : public KindSeries {
  public:
    void record(const ProbeResult& r) override {
        std::lock_guard lock(mu_);
        const DicomResult* d = r.as<DicomKind>();
        last_ = d ? *d : DicomResult{};
    }
    void render(std::size_t family, SeriesWriter& out) const override {
        std::lock_guard lock(mu_);
        if (family == 0) {
            if (!last_.reject_result.empty())
                out.value({{"result", last_.reject_result},
                           {"source", last_.reject_source},
                           {"reason", last_.reject_reason}},
                          1);
        } else if (family == 1) {
            out.value({}, last_.echo_status);
        } else {
            out.value({}, last_.reset_hops);
        }
    }

  private:
    mutable std::mutex mu_;  // a scrape reads while the probing thread records
    DicomResult last_;       // its labels are from fixed sets (dicom_pdu.hpp)
};

}  // namespace

std::unique_ptr<KindSeries> DicomKind::make_series() {
    return std::make_unique<DicomSeries>();
}

}  // namespace fedprobe
