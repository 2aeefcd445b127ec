// A path job's own series: flow 0's current path (one series per TTL, replaced when the path
// changes, so an address from the wire is a label only within max_ttl), where and why the last
// round stopped, path changes confirmed over two rounds, the ECMP width and forwarding loss;
// the last MTU search (kept between searches) and the middleboxes on the current path (at most
// one series per kind of change); the networks the path crosses and their changes, apart from
// hop changes inside a network.
#include <mutex>

#include "core/clock.hpp"
#include "probes/path/path_kind.hpp"
#include "probes/path/path_middlebox.hpp"
#include "probes/path/path_trace.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

namespace {

class PathSeries : public KindSeries {
  public:
    void record(const ProbeResult& r) override {
        const PathResult* path = r.as<PathKind>();
        if (!path || path->flows.empty()) return;
        const FlowTrace& t = path->flows.front();
        std::lock_guard lock(mutex_);
        const HopList hops = hop_list(t);
        if (changes_tracker_.observe(hops)) {
            ++changes_;
            loss_.reset();  // rates of another path say nothing about this one
        }
        loss_.add(t);
        if (network_tracker_.observe(network_list(t), t.stop == PathStop::reached))
            ++network_changes_;
        last_ = t;
        last_round_ = static_cast<double>(realtime_ns()) / 1e9;
        have_ = true;
        distinct_ = path->distinct_paths;
        middleboxes_ = middlebox_changes(t);
        quoted_mss_ = 0;
        for (const auto& h : t.hops)
            for (const auto& a : h.attempts)
                if (a.answered && a.quoted_mss && (!quoted_mss_ || a.quoted_mss < quoted_mss_))
                    quoted_mss_ = a.quoted_mss;
        if (path->mtu) {
            // A black hole is exported once two searches in a row find one: a single search on
            // a loaded appliance (CI, beside a soak) lost every size above 507 bytes and read as
            // a hole that no link had. Until then the last exported result stands; a search
            // without a hole counts at once.
            const bool confirmed = !path->mtu->blackhole || (searched_ && searched_->blackhole);
            searched_ = path->mtu;
            if (confirmed) mtu_ = path->mtu;
        }
        dscp_ = path->dscp;
        min_mtu_ = path->min_mtu;
        min_mss_ = path->min_mss;
    }

    void render(std::size_t family, SeriesWriter& out) const override {
        std::lock_guard lock(mutex_);
        if (family == 5) return out.value({}, static_cast<double>(changes_));
        if (family == 19) return out.value({}, static_cast<double>(network_changes_));
        if (family == 20) {
            if (have_) out.value({}, last_round_);
            return;
        }
        if (!have_) return;
        const FlowTrace& t = last_;
        switch (family) {
            case 0:
                return out.value({}, t.stop == PathStop::reached ? 1 : 0);
            case 1:
                return out.value({}, t.stop == PathStop::reached ? t.stop_ttl : t.last_answer_ttl);
            case 2:
                for (const auto& h : t.hops) {
                    const std::string ttl = std::to_string(h.ttl);
                    const std::string hop = h.address ? h.address->str() : std::string();
                    out.value({{"ttl", ttl}, {"hop", hop}, {"hop_network", h.network}}, 1);
                }
                return;
            case 3: {
                const std::string ttl = std::to_string(t.stop_ttl);
                const std::string hop = t.stop_hop ? t.stop_hop->str() : std::string();
                return out.value({{"reason", to_string(t.stop)},
                                  {"ttl", ttl},
                                  {"hop", hop},
                                  {"hop_network", t.stop_network}},
                                 1);
            }
            case 4:
                return out.value({}, static_cast<double>(t.hash));
            case 6:
                return out.value({}, distinct_);
            case 7:
                for (const auto& h : t.hops)
                    if (h.address) out.value({{"ttl", std::to_string(h.ttl)}}, to_seconds(h.rtt));
                return;
            case 8:
                return out.value({}, loss_.loss_from());
            case 9:
                if (mtu_ && mtu_->mtu) out.value({}, mtu_->mtu);
                return;
            case 10:
                if (mtu_ && mtu_->mtu)
                    out.value({{"source", to_string(mtu_->source)},
                               {"reporter", mtu_->reporter ? mtu_->reporter->str() : ""},
                               {"reporter_network", mtu_->reporter_network}},
                              1);
                return;
            case 11:
                if (mtu_ && mtu_->mtu) out.value({}, mtu_->blackhole ? 1 : 0);
                return;
            case 12:
                if (mtu_ && mtu_->blackhole)
                    out.value({{"ttl", std::to_string(mtu_->blackhole_ttl)},
                               {"hop", mtu_->blackhole_hop ? mtu_->blackhole_hop->str() : ""},
                               {"hop_network", mtu_->blackhole_network}},
                              1);
                return;
            case 13:
                for (const auto& m : middleboxes_)
                    out.value({{"ttl", std::to_string(m.ttl)},
                               {"hop", m.hop ? m.hop->str() : ""},
                               {"hop_network", m.network},
                               {"change", to_string(m.change)}},
                              1);
                return;
            case 14:
                if (quoted_mss_) out.value({}, quoted_mss_);
                return;
            case 15:
                if (min_mtu_) out.value({}, min_mtu_);
                return;
            case 16:
                if (min_mss_) out.value({}, min_mss_);
                return;
            case 17:
                if (dscp_ >= 0) out.value({}, dscp_);
                return;
            case 18: {
                // Network ids are [a-z0-9-]: '>' cannot be one of them.
                std::string joined;
                for (const auto& n : network_tracker_.current())
                    joined += (joined.empty() ? "" : ">") + n;
                if (!joined.empty()) out.value({{"networks", joined}}, 1);
                return;
            }
        }
    }

    std::optional<TracedPath> traced_path() const override {
        std::lock_guard lock(mutex_);
        if (!have_) return std::nullopt;
        TracedPath out;
        for (const auto& h : last_.hops)
            out.hops.push_back(
                {std::to_string(h.ttl), h.address ? h.address->str() : "", h.network});
        out.stop = std::string(to_string(last_.stop));
        if (last_.stop_hop) out.stop += " at " + last_.stop_hop->str();
        if (!last_.stop_network.empty()) out.stop += " (" + last_.stop_network + ")";
        if (mtu_ && mtu_->blackhole)
            out.stop +=
                "; an MTU black hole after " +
                (mtu_->blackhole_hop ? mtu_->blackhole_hop->str() : std::string("?")) +
                (mtu_->blackhole_network.empty() ? "" : " (" + mtu_->blackhole_network + ")") +
                ": full-size packets vanish, the path MTU is " + std::to_string(mtu_->mtu);
        return out;
    }

  private:
    mutable std::mutex mutex_;  // record() on the probing thread, render() on scrapes
    FlowTrace last_;
    bool have_ = false;
    int distinct_ = 0;
    std::uint64_t changes_ = 0;
    PathChangeTracker changes_tracker_;
    NetworkPathTracker network_tracker_;
    std::uint64_t network_changes_ = 0;
    double last_round_ = 0;  // unix seconds
    LossWindow loss_;
    std::vector<MiddleboxSeen> middleboxes_;
    int quoted_mss_ = 0;
    std::optional<PathMtu> mtu_;       // what is exported
    std::optional<PathMtu> searched_;  // the last search's own result
    int dscp_ = -1;
    int min_mtu_ = 0;
    int min_mss_ = 0;
};

}  // namespace

std::unique_ptr<KindSeries> PathKind::make_series() {
    return std::make_unique<PathSeries>();
}

}  // namespace fedprobe
