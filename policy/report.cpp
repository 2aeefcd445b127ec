#include "policy/report.hpp"

#include "core/markup.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

namespace fedprobe {

std::size_t CheckRun::non_compliant() const {
    return static_cast<std::size_t>(std::count_if(
        flows.begin(), flows.end(), [](const FlowRecord& f) { return !f.compliant; }));
}

nlohmann::ordered_json mtu_json(const PathMtu& m) {
    using nlohmann::ordered_json;
    auto addr = [](const std::optional<IpAddress>& a) {
        return a ? ordered_json(a->str()) : ordered_json();
    };
    ordered_json j;
    j["mtu"] = m.mtu ? ordered_json(m.mtu) : ordered_json();
    j["source"] = std::string(to_string(m.source));
    j["reporter"] = addr(m.reporter);
    j["reporter_network"] = m.reporter_network;
    j["local_mtu"] = m.local_mtu;
    j["lowest_failed"] = m.lowest_failed ? ordered_json(m.lowest_failed) : ordered_json();
    j["blackhole"] = m.blackhole;
    j["blackhole_after"] = m.blackhole ? ordered_json{{"size", m.blackhole_size},
                                                      {"ttl", m.blackhole_ttl},
                                                      {"address", addr(m.blackhole_hop)},
                                                      {"network", m.blackhole_network}}
                                       : ordered_json();
    j["packets"] = m.packets;
    j["stages"] = m.stages;
    return j;
}

nlohmann::ordered_json middlebox_json(const std::vector<MiddleboxSeen>& seen) {
    auto out = nlohmann::ordered_json::array();
    for (const auto& m : seen)
        out.push_back(
            {{"change", std::string(to_string(m.change))},
             {"ttl", m.ttl},
             {"address", m.hop ? nlohmann::ordered_json(m.hop->str()) : nlohmann::ordered_json()},
             {"network", m.network}});
    return out;
}

PathMtu mtu_from_json(const nlohmann::json& j) {
    PathMtu m;
    auto num = [&j](const char* key) {
        auto it = j.find(key);
        return it != j.end() && it->is_number_integer() ? it->get<int>() : 0;
    };
    auto addr = [](const nlohmann::json& v) {
        return v.is_string() ? IpAddress::parse(v.get<std::string>()) : std::nullopt;
    };
    m.mtu = num("mtu");
    m.source = j.value("source", "") == "ptb" ? PathMtu::Source::ptb : PathMtu::Source::search;
    if (auto it = j.find("reporter"); it != j.end()) m.reporter = addr(*it);
    m.reporter_network = j.value("reporter_network", "");
    m.local_mtu = num("local_mtu");
    m.lowest_failed = num("lowest_failed");
    m.blackhole = j.value("blackhole", false);
    if (auto b = j.find("blackhole_after"); b != j.end() && b->is_object()) {
        m.blackhole_size = b->value("size", 0);
        m.blackhole_ttl = b->value("ttl", 0);
        if (auto a = b->find("address"); a != b->end()) m.blackhole_hop = addr(*a);
        m.blackhole_network = b->value("network", "");
    }
    m.packets = num("packets");
    m.stages = num("stages");
    return m;
}

std::string describe_path_mtu(const PathMtu& m) {
    auto name = [](const std::optional<IpAddress>& a, const std::string& net) {
        return a ? a->str() + (net.empty() ? "" : " (" + net + ")") : std::string("no hop");
    };
    if (!m.mtu) return "path MTU unknown";
    std::string s = "path MTU " + std::to_string(m.mtu);
    if (m.source == PathMtu::Source::ptb)
        s += " (packet-too-big from " + name(m.reporter, m.reporter_network) + ")";
    if (m.blackhole)
        s += ", BLACK HOLE: " + std::to_string(m.blackhole_size) + "-byte DF packets vanish " +
             (m.blackhole_ttl ? "after " + name(m.blackhole_hop, m.blackhole_network) + ", hop " +
                                    std::to_string(m.blackhole_ttl)
                              : std::string("before any hop answers"));
    return s;
}

std::string to_json(const CheckRun& run) {
    nlohmann::ordered_json j;
    j["version"] = CheckRun::kSchemaVersion;
    j["site"] = run.site;
    j["config"] = run.config;
    j["started"] = run.started;
    j["duration_seconds"] = run.duration_seconds;
    j["summary"] = {{"flows", run.flows.size()},
                    {"compliant", run.flows.size() - run.non_compliant()},
                    {"non_compliant", run.non_compliant()}};
    j["flows"] = nlohmann::ordered_json::array();
    for (const auto& f : run.flows) {
        j["flows"].push_back({{"flow", f.flow},
                              {"from", f.from},
                              {"to", f.to},
                              {"network", f.network},
                              {"address", f.address},
                              {"service", f.service},
                              {"proto", f.proto},
                              {"port", f.port},
                              {"expect", f.expect},
                              {"outcome", f.outcome},
                              {"verdict", f.verdict},
                              {"compliant", f.compliant},
                              {"reporter", f.reporter},
                              {"reporter_network", f.reporter_network},
                              {"duration_seconds", f.duration_seconds},
                              {"note", f.note}});
        auto& rec = j["flows"].back();
        if (f.blocked_after)
            rec["blocked_after"] = {
                {"ttl", f.blocked_after->ttl},
                {"address", f.blocked_after->hop ? f.blocked_after->hop->str() : ""},
                {"network", f.blocked_after->network}};
        else
            rec["blocked_after"] = nullptr;
        rec["path_mtu"] = f.path_mtu ? mtu_json(*f.path_mtu) : nlohmann::ordered_json();
        rec["middlebox"] = middlebox_json(f.middlebox);
    }
    return j.dump(2) + "\n";
}

std::optional<CheckRun> check_run_from_json(const std::string& text, std::string& error) {
    try {
        auto j = nlohmann::json::parse(text);
        if (!j.is_object() || !j.contains("version")) {
            error = "not a fedprobe check result (no 'version')";
            return std::nullopt;
        }
        if (j.at("version").get<int>() != CheckRun::kSchemaVersion) {
            error = "schema version " + j.at("version").dump() + " is not " +
                    std::to_string(CheckRun::kSchemaVersion);
            return std::nullopt;
        }
        CheckRun run;
        run.site = j.value("site", "");
        run.config = j.value("config", "");
        run.started = j.value("started", "");
        run.duration_seconds = j.value("duration_seconds", 0.0);
        for (const auto& f : j.at("flows")) {
            FlowRecord r;
            r.flow = f.at("flow").get<std::string>();
            r.from = f.value("from", "");
            r.to = f.at("to").get<std::string>();
            r.network = f.value("network", "");
            r.address = f.value("address", "");
            r.service = f.value("service", "");
            r.proto = f.value("proto", "");
            r.port = f.value("port", 0);
            r.expect = f.value("expect", "");
            r.outcome = f.value("outcome", "");
            r.verdict = f.value("verdict", "");
            r.compliant = f.at("compliant").get<bool>();
            r.reporter = f.value("reporter", "");
            r.reporter_network = f.value("reporter_network", "");
            r.duration_seconds = f.value("duration_seconds", 0.0);
            r.note = f.value("note", "");
            if (auto b = f.find("blocked_after"); b != f.end() && b->is_object())
                r.blocked_after = FlowRecord::BlockedAfter{
                    b->value("ttl", 0), IpAddress::parse(b->value("address", "")),
                    b->value("network", "")};
            if (auto m = f.find("path_mtu"); m != f.end() && m->is_object())
                r.path_mtu = mtu_from_json(*m);
            run.flows.push_back(std::move(r));
        }
        return run;
    } catch (const nlohmann::json::exception& e) {
        error = e.what();
        return std::nullopt;
    }
}

namespace {

std::string evidence(const FlowRecord& f) {
    std::string s = "expected " + f.expect + ", got " + f.outcome + " (" + f.verdict + ")";
    if (!f.reporter.empty()) s += ", reported by " + f.reporter + " in " + f.reporter_network;
    if (f.blocked_after) s += ", " + f.outcome + " " + describe(*f.blocked_after);
    if (f.path_mtu) s += ", " + describe_path_mtu(*f.path_mtu);
    return s;
}

std::string fixed(double v, int precision) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f", precision, v);
    return buf;
}

}  // namespace

std::string to_junit(const CheckRun& run) {
    std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out += "<testsuites tests=\"" + std::to_string(run.flows.size()) + "\" failures=\"" +
           std::to_string(run.non_compliant()) + "\" time=\"" + fixed(run.duration_seconds, 3) +
           "\">\n";
    out += "  <testsuite name=\"fedprobe check from " + escape_markup(run.site) + "\" tests=\"" +
           std::to_string(run.flows.size()) + "\" failures=\"" +
           std::to_string(run.non_compliant()) + "\" errors=\"0\" time=\"" +
           fixed(run.duration_seconds, 3) + "\" timestamp=\"" + escape_markup(run.started) +
           "\">\n";
    for (const auto& f : run.flows) {
        out += "    <testcase classname=\"" + escape_markup("flow." + f.flow) + "\" name=\"" +
               escape_markup(f.from + " -> " + f.to + " " + f.service + " " + f.expect) +
               "\" time=\"" + fixed(f.duration_seconds, 3) + "\">\n";
        if (!f.compliant)
            out += "      <failure type=\"" + escape_markup(f.verdict) + "\" message=\"" +
                   escape_markup(evidence(f)) + "\"/>\n";
        if (!f.note.empty())
            out += "      <system-out>" + escape_markup(f.note) + "</system-out>\n";
        out += "    </testcase>\n";
    }
    out += "  </testsuite>\n</testsuites>\n";
    return out;
}

std::string to_table(const CheckRun& run, bool colour) {
    const char* headers[] = {"FLOW",    "TO",       "SERVICE", "EXPECT",       "OUTCOME",
                             "VERDICT", "REPORTER", "TIME",    "BLOCKED AFTER"};
    constexpr int kColumns = 9;
    std::vector<std::vector<std::string>> rows;
    for (const auto& f : run.flows)
        rows.push_back({f.flow, f.to, f.service, f.expect, f.outcome, f.verdict,
                        f.reporter.empty() ? "-" : f.reporter + " (" + f.reporter_network + ")",
                        fixed(f.duration_seconds * 1000, 1) + "ms",
                        f.blocked_after ? where(*f.blocked_after) : "-"});
    std::vector<std::size_t> width(kColumns);
    for (int c = 0; c < kColumns; ++c)
        width[c] = std::string(headers[c]).size();
    for (const auto& r : rows)
        for (int c = 0; c < kColumns; ++c)
            width[c] = std::max(width[c], r[c].size());
    auto line = [&](const std::vector<std::string>& cells, const char* paint) {
        std::string out;
        for (int c = 0; c < kColumns; ++c) {
            std::string cell = cells[c];
            cell.resize(width[c], ' ');
            if (paint && c == 5) cell = std::string(paint) + cell + "\033[0m";
            out += cell + (c < kColumns - 1 ? "  " : "");
        }
        while (!out.empty() && out.back() == ' ')
            out.pop_back();
        return out + "\n";
    };
    std::string out = line({headers, headers + kColumns}, nullptr);
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const char* paint = nullptr;
        if (colour)
            paint = run.flows[i].compliant
                        ? "\033[32m"
                        : (run.flows[i].verdict == "violation" ? "\033[1;31m" : "\033[31m");
        out += line(rows[i], paint);
    }
    out += "\n" + std::to_string(run.flows.size()) + " flows from " + run.site + ": " +
           std::to_string(run.flows.size() - run.non_compliant()) + " compliant, " +
           std::to_string(run.non_compliant()) + " not compliant (" +
           fixed(run.duration_seconds, 2) + " s)\n";
    std::string paths;
    for (const auto& f : run.flows) {
        if (!f.path_mtu && f.middlebox.empty()) continue;
        paths += "  " + f.flow + " -> " + f.to + " " + f.service + ": ";
        paths += f.path_mtu ? describe_path_mtu(*f.path_mtu) : "path MTU not searched";
        for (const auto& m : f.middlebox)
            paths += "; " + std::string(to_string(m.change)) + " changed by hop " +
                     std::to_string(m.ttl) + (m.hop ? " (" + m.hop->str() + ")" : "");
        paths += "\n";
    }
    if (!paths.empty()) out += "paths of the flows:\n" + paths;
    return out;
}

BaselineDiff diff_against(const CheckRun& baseline, const CheckRun& now) {
    std::map<std::string, const FlowRecord*> before;
    for (const auto& f : baseline.flows)
        before[f.key()] = &f;
    BaselineDiff d;
    for (const auto& f : now.flows) {
        auto it = before.find(f.key());
        bool was = it != before.end() && it->second->compliant;
        if (f.compliant)
            (it != before.end() && !was ? d.newly_fixed : d.still_ok).push_back(&f);
        else
            (was || it == before.end() ? d.newly_broken : d.still_broken).push_back(&f);
        if (it != before.end() && it->second->path_mtu && f.path_mtu && f.path_mtu->mtu) {
            const PathMtu& was_mtu = *it->second->path_mtu;
            const PathMtu& now_mtu = *f.path_mtu;
            if ((now_mtu.blackhole && !was_mtu.blackhole) || now_mtu.mtu < was_mtu.mtu)
                d.path_worse.emplace_back(&f, "path MTU " + std::to_string(was_mtu.mtu) + " -> " +
                                                  describe_path_mtu(now_mtu));
        }
        if (it != before.end()) before.erase(it);
    }
    for (const auto& [key, f] : before)
        d.gone.push_back(key);
    return d;
}

std::string to_text(const BaselineDiff& d, bool colour) {
    std::string out;
    auto section = [&](const char* title, const std::vector<const FlowRecord*>& flows,
                       const char* paint) {
        if (flows.empty()) return;
        out += (colour ? std::string(paint) : "") + title + (colour ? "\033[0m" : "") + "\n";
        for (const auto* f : flows)
            out += "  " + f->flow + " -> " + f->to + " " + f->service + ": " + evidence(*f) + "\n";
    };
    section("newly broken:", d.newly_broken, "\033[1;31m");
    section("newly fixed:", d.newly_fixed, "\033[32m");
    section("still broken:", d.still_broken, "\033[33m");
    if (!d.path_worse.empty()) {
        out += (colour ? "\033[1;31m" : "") +
               std::string("paths worse (the flow works, large packets may not):") +
               (colour ? "\033[0m" : "") + "\n";
        for (const auto& [f, how] : d.path_worse)
            out += "  " + f->flow + " -> " + f->to + " " + f->service + ": " + how + "\n";
    }
    if (!d.gone.empty()) {
        out += "no longer in the policy:\n";
        for (const auto& k : d.gone)
            out += "  " + k + "\n";
    }
    out +=
        "against the baseline: " + std::to_string(d.newly_broken.size()) + " newly broken, " +
        std::to_string(d.newly_fixed.size()) + " newly fixed, " +
        std::to_string(d.still_broken.size()) + " still broken, " +
        std::to_string(d.still_ok.size()) + " unchanged and compliant" +
        (d.path_worse.empty() ? std::string()
                              : ", " + std::to_string(d.path_worse.size()) + " with a worse path") +
        "\n";
    return out;
}

}  // namespace fedprobe
