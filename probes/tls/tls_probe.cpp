// The tls kind's probe: AppProbe with a dialogue that is done once the handshake is.
#include "probes/app/app_probe.hpp"
#include "probes/app/app_series.hpp"
#include "probes/probe.hpp"
#include "probes/tls/tls_kind.hpp"

namespace fedprobe {

namespace {

class TlsDialogue : public Dialogue {
  public:
    explicit TlsDialogue(TlsSettings tls) : tls_(std::move(tls)) {}
    std::string opening() override { return {}; }
    const TlsSettings* tls() const override { return &tls_; }
    AppStep tls_ready() override {
        AppStep s;
        s.verdict = AppVerdict{Outcome::ok, "TLS handshake completed"};
        return s;
    }
    AppStep received(std::string_view) override { return {}; }
    AppVerdict closed() override {
        return {Outcome::tls_error, "the server closed the connection during the handshake"};
    }
    void fill(ProbeResult& r, const AppFacts& facts) const override { r.kind = TlsResult{facts}; }

  private:
    TlsSettings tls_;
};

class TlsKindSeries : public KindSeries {
  public:
    void record(const ProbeResult& r) override {
        const TlsResult* t = r.as<TlsKind>();
        facts_.record(t ? t->app : AppFacts{});
    }
    void render(std::size_t family, SeriesWriter& out) const override {
        facts_.render(family, out);
    }

  private:
    AppFactsSeries facts_;
};

}  // namespace

std::unique_ptr<Probe> TlsKind::make_probe(EventLoop& loop) {
    return std::make_unique<AppProbe>(loop, [](const ProbeRequest& req) {
        return std::make_unique<TlsDialogue>(req.as<TlsKind>().tls);
    });
}

std::unique_ptr<KindSeries> TlsKind::make_series() {
    return std::make_unique<TlsKindSeries>();
}

}  // namespace fedprobe
