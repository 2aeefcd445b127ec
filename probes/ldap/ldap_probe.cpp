// The ldap kind's probe (AppProbe with an LdapDialogue) and its series.
#include "probes/app/app_probe.hpp"
#include "probes/app/tls_series.hpp"
#include "probes/ldap/ldap_dialogue.hpp"

namespace fedprobe {

namespace {

class LdapSeries : public KindSeries {
  public:
    void record(const ProbeResult& r) override {
        const LdapResult* l = r.as<LdapKind>();
        code_.store(l ? l->result_code : -1, std::memory_order_relaxed);
        reset_hops_.store(l ? l->reset_hops : -1, std::memory_order_relaxed);
        if (l) tls_.record(l->tls);
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
    std::atomic<int> code_{-1}, reset_hops_{-1};
    TlsSeries tls_;
};

}  // namespace

std::unique_ptr<Probe> LdapKind::make_probe(EventLoop& loop) {
    return std::make_unique<AppProbe>(loop, [](const ProbeRequest& req) {
        return std::make_unique<LdapDialogue>(req.as<LdapKind>());
    });
}

std::unique_ptr<KindSeries> LdapKind::make_series() {
    return std::make_unique<LdapSeries>();
}

}  // namespace fedprobe
