// The smtp kind's probe (AppProbe with an SmtpDialogue) and its series.
#include "probes/app/app_probe.hpp"
#include "probes/app/tls_series.hpp"
#include "probes/smtp/smtp_dialogue.hpp"

namespace fedprobe {

namespace {

class SmtpSeries : public KindSeries {
  public:
    void record(const ProbeResult& r) override {
        const SmtpResult* s = r.as<SmtpKind>();
        code_.store(s ? s->code : 0, std::memory_order_relaxed);
        reset_hops_.store(s ? s->reset_hops : -1, std::memory_order_relaxed);
        if (s) tls_.record(s->tls);
    }
    void render(std::size_t family, SeriesWriter& out) const override {
        switch (family) {
            case 0:
                return out.value({}, code_.load(std::memory_order_relaxed));
            case 1:
                return tls_.version(out);
            case 2:
                return tls_.verified(out);
            case 3:
                return tls_.not_after(out);
            default:
                return out.value({}, reset_hops_.load(std::memory_order_relaxed));
        }
    }

  private:
    std::atomic<int> code_{0}, reset_hops_{-1};
    TlsSeries tls_;
};

}  // namespace

std::unique_ptr<Probe> SmtpKind::make_probe(EventLoop& loop) {
    return std::make_unique<AppProbe>(loop, [](const ProbeRequest& req) {
        return std::make_unique<SmtpDialogue>(req.as<SmtpKind>());
    });
}

std::unique_ptr<KindSeries> SmtpKind::make_series() {
    return std::make_unique<SmtpSeries>();
}

}  // namespace fedprobe
