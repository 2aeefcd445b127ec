// An http job's own series. The phases and status are the last probe's; the TLS facts are from
// the last handshake that got that far, so an unreachable server keeps showing when its
// certificate expires.
#include <mutex>

#include "probes/http/http_kind.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

namespace {

class HttpSeries : public KindSeries {
  public:
    void record(const ProbeResult& result) override {
        const HttpResult* r = result.as<HttpKind>();
        if (!r) return;  // failed before any transfer: the last transfer's values stand
        status_.store(r->status, std::memory_order_relaxed);
        const double phases[] = {r->phases.resolve, r->phases.connect, r->phases.tls,
                                 r->phases.processing, r->phases.transfer};
        for (std::size_t i = 0; i < phases_.size(); ++i)
            phases_[i].store(phases[i], std::memory_order_relaxed);
        if (!r->tls_used) return;
        if (r->verified) verified_.store(*r->verified ? 1 : 0, std::memory_order_relaxed);
        if (r->leaf_not_after) {
            leaf_not_after_.store(*r->leaf_not_after, std::memory_order_relaxed);
            chain_not_after_.store(r->chain_not_after.value_or(*r->leaf_not_after),
                                   std::memory_order_relaxed);
            dates_seen_.store(true, std::memory_order_release);
        }
        if (!tls_seen_.load(std::memory_order_relaxed) || tls_version_ != r->tls_version) {
            std::lock_guard lock(mutex_);
            tls_version_ = r->tls_version;
        }
        tls_seen_.store(true, std::memory_order_release);
    }

    void render(std::size_t family, SeriesWriter& out) const override {
        static constexpr std::string_view kPhases[] = {"resolve", "connect", "tls", "processing",
                                                       "transfer"};
        switch (family) {
            case 0:
                return out.value({}, status_.load(std::memory_order_relaxed));
            case 1:
                for (std::size_t i = 0; i < phases_.size(); ++i)
                    out.value({{"phase", kPhases[i]}}, phases_[i].load(std::memory_order_relaxed));
                return;
            case 2:
                if (tls_seen_.load(std::memory_order_acquire)) {
                    std::lock_guard lock(mutex_);
                    out.value({{"version", tls_version_}}, 1);
                }
                return;
            case 3:
                if (tls_seen_.load(std::memory_order_acquire))
                    out.value({}, verified_.load(std::memory_order_relaxed));
                return;
            case 4:
                if (dates_seen_.load(std::memory_order_acquire)) {
                    out.value({{"cert", "leaf"}}, leaf_not_after_.load(std::memory_order_relaxed));
                    out.value({{"cert", "earliest"}},
                              chain_not_after_.load(std::memory_order_relaxed));
                }
                return;
        }
    }

  private:
    std::atomic<int> status_{0};
    std::array<std::atomic<double>, 5> phases_{};
    std::atomic<bool> tls_seen_{false}, dates_seen_{false};
    std::atomic<double> verified_{0}, leaf_not_after_{0}, chain_not_after_{0};
    mutable std::mutex mutex_;  // tls_version_
    std::string tls_version_;
};

}  // namespace

std::unique_ptr<KindSeries> HttpKind::make_series() {
    return std::make_unique<HttpSeries>();
}

}  // namespace fedprobe
