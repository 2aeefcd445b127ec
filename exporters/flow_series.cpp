#include "exporters/flow_series.hpp"

#include "policy/verdict.hpp"

#include <algorithm>
#include <limits>

namespace fedprobe {

void FlowSeriesSet::sync(
    const std::vector<std::pair<std::string, std::map<std::string, std::string>>>& flows) {
    std::lock_guard lock(mutex_);
    std::unordered_map<std::string, std::unique_ptr<Series>> next;
    order_.clear();
    for (const auto& [key, labels] : flows) {
        std::vector<prometheus::ClientMetric::Label> sorted;
        for (const auto& [name, value] : labels)
            sorted.push_back({name, value});
        auto old = series_.find(key);
        if (old != series_.end() && old->second->labels == sorted) {
            next.emplace(key, std::move(old->second));
        } else {
            auto s = std::make_unique<Series>();
            s->labels = std::move(sorted);
            next.emplace(key, std::move(s));
        }
        order_.push_back(key);
    }
    series_ = std::move(next);
}

FlowSeriesSet::Series* FlowSeriesSet::find(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = series_.find(key);
    return it == series_.end() ? nullptr : it->second.get();
}

void FlowSeriesSet::record(Series* s, Outcome outcome, bool compliant, const std::string& reporter,
                           const std::string& reporter_network, Outcome answered, double unix_now) {
    if (!s) return;
    std::lock_guard lock(mutex_);
    if (!s->known || s->state != outcome) s->last_change = unix_now;
    s->known = true;
    s->state = outcome;
    s->compliant = compliant;
    s->reporter = reporter;
    s->reporter_network = reporter_network;
    s->answered = answered;
}

void FlowSeriesSet::set_blocked_after(Series* s, const std::optional<BlockedAfter>& b) {
    if (!s) return;
    std::lock_guard lock(mutex_);
    s->blocked_after = b;
}

void FlowSeriesSet::fill_status(StatusView& view) const {
    std::lock_guard lock(mutex_);
    for (const auto& key : order_) {
        auto it = series_.find(key);
        if (it == series_.end()) continue;
        const Series& s = *it->second;
        StatusView::Flow f;
        for (const auto& l : s.labels) {
            if (l.name == "flow") f.flow = l.value;
            if (l.name == "from") f.from = l.value;
            if (l.name == "to") f.to = l.value;
            if (l.name == "service") f.service = l.value;
            if (l.name == "expect") f.expect = l.value;
        }
        if (s.known) {
            f.state = to_string(s.state);
            f.verdict = to_string(
                judge(f.expect == "deny" ? Expectation::deny : Expectation::allow, s.state));
        }
        f.compliant = s.compliant;
        f.reporter = s.reporter;
        f.reporter_network = s.reporter_network;
        if (s.known && s.blocked_after) f.blocked_after = describe(*s.blocked_after);
        f.last_change = s.last_change;
        view.flows.push_back(std::move(f));
    }
}

std::vector<prometheus::MetricFamily> FlowSeriesSet::Collect() const {
    using prometheus::ClientMetric;
    using prometheus::MetricType;
    auto family = [](const char* name, const char* help) {
        prometheus::MetricFamily f;
        f.name = name;
        f.help = help;
        f.type = MetricType::Gauge;
        return f;
    };
    auto compliant = family("fedprobe_flow_compliant",
                            "1 when the flow does what the policy expects (allow: connects; deny: "
                            "stopped by a firewall), 0 when not, NaN before the first check");
    auto state = family("fedprobe_flow_state",
                        "The flow's last outcome as a state set: 1 for the current state");
    auto changed = family("fedprobe_flow_last_change_timestamp_seconds",
                          "When the flow's state last changed, in unix seconds");
    auto reporter = family("fedprobe_flow_reporter_info",
                           "The device that answered for the flow (a firewall that rejected it, a "
                           "router without a route, the target) and what it answered; for a "
                           "silent round, the device that answered the flow's last failing round, "
                           "or 'unreachable' to any job of its address, within 30 s (routers "
                           "rate-limit their answers)");
    auto blocked =
        family("fedprobe_flow_blocked_after_info",
               "For an allow flow dropped silently: the last hop that answered a path:SERVICE "
               "trace of it, where the flow dies (ttl=\"0\", hop=\"\": none answered)");
    auto with = [](std::vector<ClientMetric::Label> labels, ClientMetric::Label extra) {
        labels.push_back(std::move(extra));
        std::sort(labels.begin(), labels.end());
        return labels;
    };
    std::lock_guard lock(mutex_);
    for (const auto& key : order_) {
        const Series& s = *series_.at(key);
        ClientMetric c;
        c.label = s.labels;
        c.gauge.value = s.known ? (s.compliant ? 1 : 0) : std::numeric_limits<double>::quiet_NaN();
        compliant.metric.push_back(std::move(c));
        for (Outcome o : kAllOutcomes) {
            ClientMetric m;
            m.label = with(s.labels, {"state", std::string(to_string(o))});
            m.gauge.value = s.known && s.state == o ? 1 : 0;
            state.metric.push_back(std::move(m));
        }
        if (s.known) {
            ClientMetric t;
            t.label = s.labels;
            t.gauge.value = s.last_change;
            changed.metric.push_back(std::move(t));
        }
        if (s.known && !s.reporter.empty()) {
            ClientMetric r;
            r.label = with(with(with(s.labels, {"reporter", s.reporter}),
                                {"reporter_network", s.reporter_network}),
                           {"answered", std::string(to_string(s.answered))});
            r.gauge.value = 1;
            reporter.metric.push_back(std::move(r));
        }
        if (s.known && s.blocked_after) {
            const BlockedAfter& b = *s.blocked_after;
            ClientMetric m;
            m.label = with(with(with(s.labels, {"ttl", std::to_string(b.ttl)}),
                                {"hop", b.hop ? b.hop->str() : ""}),
                           {"hop_network", b.network});
            m.gauge.value = 1;
            blocked.metric.push_back(std::move(m));
        }
    }
    std::vector<prometheus::MetricFamily> out;
    for (auto* f : {&compliant, &state, &changed, &reporter, &blocked})
        if (!f->metric.empty()) out.push_back(std::move(*f));
    return out;
}

}  // namespace fedprobe
