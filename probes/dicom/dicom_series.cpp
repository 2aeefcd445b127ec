// A dicom job's own series: the last rejection, the last echo status, the last reset's distance.
#include <mutex>

#include "probes/app/tls_series.hpp"
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
        if (d) tls_.record(d->tls);
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
        } else if (family == 2) {
            tls_.version(out);
        } else if (family == 3) {
            tls_.verified(out);
        } else if (family == 4) {
            tls_.not_after(out);
        } else {
            out.value({}, last_.reset_hops);
        }
    }

  private:
    mutable std::mutex mu_;  // a scrape reads while the probing thread records
    DicomResult last_;       // its labels are from fixed sets (dicom_pdu.hpp)
    TlsSeries tls_;          // from the last handshake that got that far
};

}  // namespace

std::unique_ptr<KindSeries> DicomKind::make_series() {
    return std::make_unique<DicomSeries>();
}

}  // namespace fedprobe
