#include "policy/blame_evidence.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <tuple>

namespace fedprobe {

namespace {

const std::string& label(const Sample& s, const char* name) {
    return s.label(name);
}

int ttl_of(const Sample& s) {
    return std::atoi(label(s, "ttl").c_str());
}

HopSeen hop_of(const Sample& s) {
    return HopSeen{ttl_of(s), label(s, "hop"), label(s, "hop_network")};
}

ApplianceEvidence& of_site(std::vector<ApplianceEvidence>& all, const std::string& site) {
    for (auto& a : all)
        if (a.site == site) return a;
    all.push_back(ApplianceEvidence::unanswered(site, ""));
    return all.back();
}

}  // namespace

const std::vector<std::string>& blame_metric_names() {
    static const std::vector<std::string> names = {"fedprobe_flow_compliant",
                                                   "fedprobe_flow_state",
                                                   "fedprobe_flow_reporter_info",
                                                   "fedprobe_flow_blocked_after_info",
                                                   "fedprobe_flow_last_change_timestamp_seconds",
                                                   "fedprobe_path_reached",
                                                   "fedprobe_path_hop_info",
                                                   "fedprobe_path_stop_info",
                                                   "fedprobe_path_last_round_timestamp_seconds",
                                                   "fedprobe_path_mtu_bytes",
                                                   "fedprobe_path_blackhole_info",
                                                   "fedprobe_probe_success",
                                                   "fedprobe_stamp_packets_sent_total",
                                                   "fedprobe_stamp_forward_lost_total",
                                                   "fedprobe_stamp_backward_lost_total",
                                                   "fedprobe_stamp_reflector_packets_total",
                                                   "fedprobe_probe_last_error_info",
                                                   "fedprobe_idle_timeout_lower_seconds",
                                                   "fedprobe_idle_timeout_upper_seconds",
                                                   "fedprobe_idle_timeout_required_seconds",
                                                   "fedprobe_idle_timeout_below_required",
                                                   "fedprobe_passive_handshakes_total",
                                                   "fedprobe_passive_interface_up"};
    return names;
}

void add_evidence(const std::vector<Sample>& samples, std::vector<ApplianceEvidence>& appliances) {
    // Keyed within a site: flows by (flow, to), traces by (target, service), stamps by target.
    using FlowKey = std::pair<std::string, std::string>;
    std::map<std::string, std::map<FlowKey, FlowSeen>> flows;
    std::map<std::string, std::map<FlowKey, TraceSeen>> traces;
    std::map<std::string, std::map<std::string, StampSeen>> stamps;
    std::map<std::string, double> reflector;  // by site: packets its reflector left unanswered
    std::map<std::string, std::vector<ProbeErrorSeen>> errors;
    std::map<std::string, std::map<FlowKey, IdleSeen>> idles;
    std::map<std::string, std::map<std::tuple<std::string, std::string, std::string>, PassiveSeen>>
        passive;
    std::map<std::string, bool> captures;
    for (const Sample& s : samples) {
        const std::string site = label(s, "site");
        if (site.empty()) continue;
        if (s.name.starts_with("fedprobe_flow_")) {
            FlowSeen& f = flows[site][{label(s, "flow"), label(s, "to")}];
            f.flow = label(s, "flow");
            f.to = label(s, "to");
            f.network = label(s, "network");
            f.service = label(s, "service");
            f.expect = label(s, "expect");
            if (s.name == "fedprobe_flow_compliant")
                f.compliant = s.value == 1;
            else if (s.name == "fedprobe_flow_state" && s.value == 1)
                f.state = label(s, "state");
            else if (s.name == "fedprobe_flow_reporter_info") {
                f.reporter = label(s, "reporter");
                f.reporter_network = label(s, "reporter_network");
                f.answered = label(s, "answered");
            } else if (s.name == "fedprobe_flow_blocked_after_info") {
                f.blocked_after = hop_of(s);
            } else if (s.name == "fedprobe_flow_last_change_timestamp_seconds") {
                f.since = s.value;
            }
        } else if (s.name.starts_with("fedprobe_path_")) {
            TraceSeen& t = traces[site][{label(s, "target"), label(s, "service")}];
            t.target = label(s, "target");
            t.network = label(s, "network");
            t.service = label(s, "service");
            if (s.name == "fedprobe_path_reached")
                t.reached = s.value == 1;
            else if (s.name == "fedprobe_path_hop_info")
                t.hops.push_back(hop_of(s));
            else if (s.name == "fedprobe_path_stop_info") {
                t.stop_reason = label(s, "reason");
                t.stop = hop_of(s);
            } else if (s.name == "fedprobe_path_last_round_timestamp_seconds") {
                t.last_run = s.value;
            } else if (s.name == "fedprobe_path_mtu_bytes")
                t.mtu = s.value;
            else if (s.name == "fedprobe_path_blackhole_info")
                t.blackhole = hop_of(s);
        } else if (s.name.starts_with("fedprobe_idle_timeout_")) {
            IdleSeen& i = idles[site][{label(s, "target"), label(s, "service")}];
            i.target = label(s, "target");
            i.network = label(s, "network");
            i.service = label(s, "service");
            if (s.name == "fedprobe_idle_timeout_lower_seconds")
                i.lower = s.value;
            else if (s.name == "fedprobe_idle_timeout_upper_seconds")
                i.upper = s.value;
            else if (s.name == "fedprobe_idle_timeout_required_seconds")
                i.required = s.value;
            else if (s.name == "fedprobe_idle_timeout_below_required")
                i.below_required = s.value == 1;
        } else if (s.name == "fedprobe_passive_interface_up") {
            captures[site] = true;
        } else if (s.name == "fedprobe_passive_handshakes_total") {
            captures[site] = true;
            PassiveSeen& p = passive[site][{label(s, "src_network"), label(s, "dst_network"),
                                            label(s, "service")}];
            p.src_network = label(s, "src_network");
            p.dst_network = label(s, "dst_network");
            p.service = label(s, "service");
            p.outcomes[label(s, "outcome")] += s.value;
        } else if (s.name == "fedprobe_probe_last_error_info") {
            errors[site].push_back(ProbeErrorSeen{
                label(s, "target"), label(s, "network"), label(s, "probe"), label(s, "service"),
                label(s, "outcome"), label(s, "reporter"), label(s, "reporter_network")});
        } else if (s.name == "fedprobe_stamp_reflector_packets_total") {
            const std::string result = label(s, "result");
            if (result == "dropped" || result == "rate_limited") reflector[site] += s.value;
        } else if (s.name.starts_with("fedprobe_stamp_") ||
                   (s.name == "fedprobe_probe_success" && label(s, "probe") == "stamp")) {
            StampSeen& st = stamps[site][label(s, "target")];
            st.target = label(s, "target");
            st.network = label(s, "network");
            if (s.name == "fedprobe_probe_success")
                st.state = s.value == 1 ? "ok" : "failing";
            else if (s.name == "fedprobe_stamp_packets_sent_total")
                st.sent = s.value;
            else if (s.name == "fedprobe_stamp_forward_lost_total")
                st.forward_lost = s.value;
            else if (s.name == "fedprobe_stamp_backward_lost_total")
                st.backward_lost = s.value;
        }
    }
    std::vector<std::string> sites;
    for (const auto& s : samples)
        if (auto site = label(s, "site");
            !site.empty() && std::find(sites.begin(), sites.end(), site) == sites.end())
            sites.push_back(site);
    for (const auto& site : sites) {
        ApplianceEvidence& a = of_site(appliances, site);
        a.answered = true;
        for (auto& [k, f] : flows[site])
            a.flows.push_back(std::move(f));
        for (auto& [k, t] : traces[site]) {
            std::sort(t.hops.begin(), t.hops.end(),
                      [](const HopSeen& x, const HopSeen& y) { return x.ttl < y.ttl; });
            a.traces.push_back(std::move(t));
        }
        for (auto& [k, st] : stamps[site])
            a.stamps.push_back(std::move(st));
        a.reflector_unanswered = reflector[site];
        for (auto& e : errors[site])
            a.errors.push_back(std::move(e));
        for (auto& [k, i] : idles[site])
            a.idles.push_back(std::move(i));
        for (auto& [k, p] : passive[site])
            a.passive.push_back(std::move(p));
        a.captures = captures[site];
    }
}

}  // namespace fedprobe
