#include "daemon/trace.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "core/event_loop.hpp"
#include "engine/jobs.hpp"
#include "federation/loader.hpp"
#include "federation/network_index.hpp"
#include "policy/report.hpp"
#include "probes/path/path_middlebox.hpp"
#include "probes/path/path_trace.hpp"

namespace fedprobe {

namespace {

std::string ms(Duration d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", to_seconds(d) * 1000);
    return buf;
}

std::string pad(std::string s, std::size_t width) {
    if (s.size() < width) s.append(width - s.size(), ' ');
    return s;
}

std::string describe_stop(const FlowTrace& t) {
    std::string out = std::string(to_string(t.stop));
    if (t.stop_ttl == 0) return out + " (nothing answered)";
    out += " at TTL " + std::to_string(t.stop_ttl);
    if (t.stop_hop) out += " (" + t.stop_hop->str() + ", " + t.stop_network + ")";
    if (t.stop == PathStop::silent || t.stop == PathStop::max_ttl)
        out += ": the flow dies after this hop";
    return out;
}

std::string hop_name(const std::optional<IpAddress>& a, const std::string& network) {
    if (!a) return "no hop";
    return a->str() + (network.empty() ? "" : " (" + network + ")");
}

std::string mpls_text(const std::vector<MplsLabel>& stack) {
    std::string out;
    for (const auto& l : stack)
        out += (out.empty() ? "MPLS " : " ") + std::to_string(l.label) + "/tc" +
               std::to_string(l.tc) + (l.bottom ? "/S" : "") + "/ttl" + std::to_string(l.ttl);
    return out;
}

std::string changes_text(std::uint8_t changes) {
    std::string out;
    for (MiddleboxChange c : kAllMiddleboxChanges)
        if (changes & bit(c)) out += (out.empty() ? "" : ",") + std::string(to_string(c));
    return out;
}

}  // namespace

std::string describe_mtu(const PathMtu& m) {
    std::string out;
    if (!m.mtu) return "path MTU: unknown (nothing reached the destination)\n";
    out = "path MTU: " + std::to_string(m.mtu);
    if (m.source == PathMtu::Source::ptb)
        out += " (packet-too-big from " + hop_name(m.reporter, m.reporter_network) + ")";
    else if (m.mtu == m.local_mtu)
        out += " (the interface's; a full-size DF probe arrived)";
    else
        out += " (searched; " + std::to_string(m.lowest_failed) + " bytes did not arrive)";
    out += ", interface " + std::to_string(m.local_mtu) + ", " + std::to_string(m.packets) +
           (m.packets == 1 ? " probe in " : " probes in ") + std::to_string(m.stages) +
           (m.stages == 1 ? " stage\n" : " stages\n");
    if (m.blackhole) {
        out += "BLACK HOLE: " + std::to_string(m.blackhole_size) +
               "-byte DF packets vanish without packet-too-big; ";
        out += m.blackhole_ttl
                   ? "the last hop that passes them is " +
                         hop_name(m.blackhole_hop, m.blackhole_network) + " at TTL " +
                         std::to_string(m.blackhole_ttl) + ": the hole is after it\n"
                   : "no hop answers them: the hole is before the first hop that answers\n";
    }
    return out;
}

std::string trace_table(const PathResult& result, const IpAddress& destination,
                        const std::string& title) {
    std::string out = title + "\n";
    for (std::size_t f = 0; f < result.flows.size(); ++f) {
        const FlowTrace& t = result.flows[f];
        out += "flow " + std::to_string(f) + " (" +
               (result.method == PathMethod::icmp ? "icmp id " : "source port ") +
               std::to_string(t.flow_id) + ")\n";
        out += " TTL  " + pad("HOST", 40) + pad("NETWORK", 16) + " LOSS%  SNT   LAST ms  NOTE\n";
        for (const auto& h : t.hops) {
            const int sent = static_cast<int>(h.attempts.size());
            const int got = h.answered();
            char loss[16];
            std::snprintf(loss, sizeof loss, "%5.1f", sent ? 100.0 * (sent - got) / sent : 0.0);
            char ttl[8];
            std::snprintf(ttl, sizeof ttl, "%4d", h.ttl);
            std::string note;
            if (h.destination) note = "destination";
            std::uint8_t changes = 0;
            std::vector<MplsLabel> mpls;
            for (const auto& a : h.attempts) {
                changes |= a.answered ? a.changes : 0;
                if (a.answered && mpls.empty()) mpls = a.mpls;
            }
            if (changes) note += (note.empty() ? "" : "; ") + ("quote: " + changes_text(changes));
            if (!mpls.empty()) note += (note.empty() ? "" : "; ") + mpls_text(mpls);
            for (const auto& a : h.attempts) {
                if (!a.answered) continue;
                const PathAnswer kind = classify_answer(a, destination);
                if (kind == PathAnswer::unreachable || kind == PathAnswer::prohibited)
                    note =
                        std::string(kind == PathAnswer::prohibited ? "prohibited" : "unreachable") +
                        " (icmp " + std::to_string(a.icmp_type) + "/" +
                        std::to_string(a.icmp_code) + ")";
            }
            out += std::string(ttl) + "  " + pad(h.address ? h.address->str() : "???", 40) +
                   pad(h.network, 16) + " " + loss + "  " + pad(std::to_string(sent), 4) +
                   pad(h.address ? ms(h.rtt) : "", 10) + note + "\n";
        }
        out += "stop: " + describe_stop(t) + "\n";
        for (const auto& m : middlebox_changes(t))
            out += "middlebox: " + std::string(to_string(m.change)) + " changed by TTL " +
                   std::to_string(m.ttl) + " (" + hop_name(m.hop, m.network) +
                   "; that hop or the one before)\n";
    }
    if (result.mtu) out += describe_mtu(*result.mtu);
    if (result.flows.size() > 1)
        out += "distinct paths: " + std::to_string(result.distinct_paths) + "\n";
    out += "packets sent: " + std::to_string(result.packets_sent) + "\n";
    return out;
}

std::string trace_json(const PathResult& result, const std::string& target,
                       const IpAddress& address) {
    using nlohmann::ordered_json;
    ordered_json j;
    j["target"] = target;
    j["address"] = address.str();
    j["method"] = std::string(to_string(result.method));
    if (result.method != PathMethod::icmp) j["port"] = result.port;
    j["packets_sent"] = result.packets_sent;
    j["distinct_paths"] = result.distinct_paths;
    j["flows"] = ordered_json::array();
    for (const auto& t : result.flows) {
        ordered_json f;
        f["flow_id"] = t.flow_id;
        f["stop"] = {{"reason", std::string(to_string(t.stop))},
                     {"ttl", t.stop_ttl},
                     {"address", t.stop_hop ? ordered_json(t.stop_hop->str()) : ordered_json()},
                     {"network", t.stop_network}};
        f["hash"] = t.hash;
        f["hops"] = ordered_json::array();
        for (const auto& h : t.hops) {
            ordered_json hop;
            hop["ttl"] = h.ttl;
            hop["address"] = h.address ? ordered_json(h.address->str()) : ordered_json();
            hop["network"] = h.network;
            hop["destination"] = h.destination;
            hop["attempts"] = ordered_json::array();
            for (const auto& a : h.attempts) {
                ordered_json at;
                at["answered"] = a.answered;
                if (a.answered) {
                    at["address"] = a.from ? ordered_json(a.from->str()) : ordered_json();
                    at["rtt_seconds"] = to_seconds(a.rtt);
                    if (a.icmp) {
                        at["icmp_type"] = a.icmp_type;
                        at["icmp_code"] = a.icmp_code;
                    }
                    at["reply_ttl"] = a.reply_ttl;
                    if (a.quoted_ttl >= 0) at["quoted_ttl"] = a.quoted_ttl;
                    if (a.next_hop_mtu) at["next_hop_mtu"] = a.next_hop_mtu;
                    if (a.quote_bytes) {
                        at["quote_bytes"] = a.quote_bytes;
                        ordered_json changes = ordered_json::array();
                        for (MiddleboxChange c : kAllMiddleboxChanges)
                            if (a.changes & bit(c)) changes.push_back(std::string(to_string(c)));
                        at["changes"] = changes;
                        if (a.quoted_mss) at["quoted_mss"] = a.quoted_mss;
                    }
                    if (!a.mpls.empty()) {
                        at["mpls"] = ordered_json::array();
                        for (const auto& l : a.mpls)
                            at["mpls"].push_back({{"label", l.label},
                                                  {"tc", l.tc},
                                                  {"s", l.bottom},
                                                  {"ttl", l.ttl}});
                    }
                }
                hop["attempts"].push_back(std::move(at));
            }
            f["hops"].push_back(std::move(hop));
        }
        f["middlebox"] = middlebox_json(middlebox_changes(t));
        j["flows"].push_back(std::move(f));
    }
    j["mtu"] = result.mtu ? mtu_json(*result.mtu) : nlohmann::ordered_json();
    return j.dump(2) + "\n";
}

int run_trace(const TraceOptions& o) {
    auto loaded = load_config_file(o.config, o.site);
    for (const auto& d : loaded.diagnostics)
        if (d.severity == Diagnostic::Severity::error || !loaded.config)
            std::cerr << d.format() << "\n";
    if (!loaded.config) return 2;
    const Config& config = *loaded.config;
    const std::string& site = config.settings.site;

    // The target as configured, or an address traced with the defaults.
    Target target;
    if (const Target* t = config.target(o.target)) {
        target = *t;
    } else if (auto a = IpAddress::parse(o.target)) {
        target.id = o.target;
        target.address = *a;
        target.interval = config.settings.interval;
        target.timeout = config.settings.timeout;
        NetworkIndex index = network_index_for_site(config);
        target.network = index.lookup(*a);
    } else {
        std::cerr << "fedprobe trace: '" << o.target
                  << "' is neither a target id of the config nor an IP address\n";
        return 2;
    }
    if (!o.service.empty() && !config.services.count(o.service)) {
        std::cerr << "fedprobe trace: service '" << o.service
                  << "' is not declared in [services]\n";
        return 2;
    }
    // Without --service or --method, trace what the target is probed for: its path:SERVICE,
    // else the first of its probes that names a service. UDP to 33434 is a flow nobody uses,
    // and a firewall that drops it says nothing of the target's services.
    std::string service = o.service;
    if (service.empty() && o.method.empty()) {
        for (const auto& spec : target.probes())
            if (service.empty() && spec.kind == kind_index_of<PathKind>() && !spec.service.empty())
                service = spec.service;
        for (const auto& spec : target.probes())
            if (service.empty() && !spec.service.empty()) service = spec.service;
        if (!service.empty())
            std::cerr << "fedprobe trace: tracing " << service << ", a service " << target.id
                      << " is probed for (--service NAME for another, --method udp for UDP "
                         "33434)\n";
        else
            std::cerr << "fedprobe trace: " << target.id
                      << " is probed for no service: tracing UDP to port 33434, which a "
                         "firewall may drop where the target's own traffic passes\n";
    }
    auto& slot = std::get<Boxed<PathOptions>>(target.options);
    PathOptions options = slot ? *slot : PathOptions{};
    if (o.method == "udp") options.method = PathMethod::udp;
    if (o.method == "icmp") options.method = PathMethod::icmp;
    if (o.method == "tcp") options.method = PathMethod::tcp;
    if (o.flows) options.flows = o.flows;
    if (o.mtu) {
        options.mtu = true;
        options.mtu_every = 1;
    }
    slot = options;
    ProbeRequest request =
        request_for(config, target, ProbeSpec{kind_index_of<PathKind>(), service});
    request.networks = std::make_shared<NetworkIndex>(network_index_for_site(config));
    const double rate = config.rate_limit_for(target.network);
    request.pacer = std::make_shared<RateLimiter>(rate, RateLimiter::default_burst(rate));

    EventLoop loop;
    if (Status st = loop.init(); !st.ok()) {
        std::cerr << "fedprobe trace: " << st.message() << "\n";
        return 2;
    }
    auto probe = PathKind::make_probe(loop);
    std::optional<ProbeResult> result;
    probe->start(request, [&](ProbeResult r) {
        result = std::move(r);
        loop.stop();
    });
    loop.run();
    const PathResult* path = result ? result->as<PathKind>() : nullptr;
    if (!path || path->flows.empty()) {
        std::cerr << "fedprobe trace: " << (result ? result->detail : "no result") << "\n";
        return 2;
    }
    if (o.format == "json") {
        std::cout << trace_json(*path, target.id, request.destination);
    } else {
        std::string how = std::string(to_string(path->method));
        if (path->method != PathMethod::icmp) how += " port " + std::to_string(path->port);
        std::cout << trace_table(*path, request.destination,
                                 "fedprobe trace from " + site + " to " + target.id + " (" +
                                     request.destination.str() + "), " + how);
    }
    // Reached, but with a black hole for full-size packets, is a failure as check's is.
    if (path->mtu && path->mtu->blackhole) return 1;
    return path->flows.front().stop == PathStop::reached ? 0 : 1;
}

}  // namespace fedprobe
