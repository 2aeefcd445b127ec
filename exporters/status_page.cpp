#include "exporters/status_page.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <tuple>

#include "core/clock.hpp"
#include "core/markup.hpp"
#include "exporters/flow_series.hpp"
#include "exporters/job_series.hpp"

namespace fedprobe {

namespace {

std::string when(double unix_s, double now) {
    if (unix_s <= 0) return "";
    const std::time_t t = static_cast<std::time_t>(unix_s);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
    const auto age = static_cast<long>(std::max(0.0, now - unix_s));
    std::string ago = age < 120      ? std::to_string(age) + " s ago"
                      : age < 7200   ? std::to_string(age / 60) + " min ago"
                      : age < 172800 ? std::to_string(age / 3600) + " h ago"
                                     : std::to_string(age / 86400) + " days ago";
    return std::string(buf) + " (" + ago + ")";
}

std::string cell(std::string_view text) {
    return "<td>" + escape_markup(text) + "</td>";
}

std::string probe_name(const StatusView::Probe& p) {
    return p.service.empty() ? p.probe : p.probe + ":" + p.service;
}

}  // namespace

std::string render_status_page(const StatusView& v) {
    std::string h;
    h.reserve(4096 + 256 * (v.probes.size() + v.flows.size()));
    const std::string site = escape_markup(v.site);
    h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta http-equiv=\"refresh\" content=\"30\">"
         "<title>fedprobe at " +
         site +
         "</title><style>"
         "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;margin-bottom:"
         "1.5em}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}"
         "th{background:#eee}.ok{background:#d8f0d8}.bad{background:#f6d0d0}"
         ".none{background:#f3f3f3}small{color:#555}ol{margin-top:0}</style></head><body>\n";
    // A probe that ends as the config expects (a denied service stopped, a target kept broken
    // on purpose) is not failing: it is counted apart and listed on request, below.
    auto unexpected = [](const StatusView::Probe& p) {
        return !p.outcome.empty() && !p.as_expected;
    };
    auto expected_failure = [](const StatusView::Probe& p) {
        return !p.outcome.empty() && p.as_expected && p.outcome != "ok";
    };
    std::size_t failing = 0, expected = 0, not_compliant = 0;
    for (const auto& p : v.probes) {
        failing += unexpected(p);
        expected += expected_failure(p);
    }
    for (const auto& f : v.flows)
        not_compliant += !f.state.empty() && !f.compliant;
    h += "<h1>fedprobe at " + site + "</h1>\n<p id=\"summary\">" + std::to_string(v.probes.size()) +
         " probes, " + std::to_string(failing) + " not as expected" +
         (expected ? " (" + std::to_string(expected) + " failing as the config expects)" : "") +
         "; " + std::to_string(v.flows.size()) + " flows, " + std::to_string(not_compliant) +
         " not compliant. fedprobe " + escape_markup(v.version) + ", " +
         escape_markup(when(v.now, v.now)) + ". This page refreshes every 30 s.</p>\n";

    // Not as expected first: the wall shows what needs someone.
    std::vector<const StatusView::Probe*> probes, expected_rows;
    for (const auto& p : v.probes)
        (expected_failure(p) ? expected_rows : probes).push_back(&p);
    auto rank = [&](const StatusView::Probe* p) {
        return p->outcome.empty() ? 1 : unexpected(*p) ? 0 : 2;
    };
    auto order = [&](std::vector<const StatusView::Probe*>& rows) {
        std::stable_sort(rows.begin(), rows.end(), [&](auto* a, auto* b) {
            return std::tuple(rank(a), a->target, probe_name(*a)) <
                   std::tuple(rank(b), b->target, probe_name(*b));
        });
    };
    order(probes);
    order(expected_rows);
    auto row = [&](const StatusView::Probe& p, bool with_expect) {
        const char* cls = p.outcome.empty() ? "none" : unexpected(p) ? "bad" : "ok";
        std::string labels;
        for (const auto& [name, value] : p.labels)
            labels += (labels.empty() ? "" : ", ") + name + "=" + value;
        std::string reporter =
            p.reporter.empty()
                ? ""
                : p.reporter + (p.reporter_network.empty() ? "" : " (" + p.reporter_network + ")");
        if (!p.note.empty()) reporter += (reporter.empty() ? "" : "; ") + p.note;
        std::string expect = p.expect.empty() ? "ok" : p.expect;
        if (!p.expect_because.empty()) expect += " (" + p.expect_because + ")";
        h += "<tr class=\"" + std::string(cls) + "\" data-target=\"" + escape_markup(p.target) +
             "\" data-probe=\"" + escape_markup(probe_name(p)) + "\" data-outcome=\"" +
             escape_markup(p.outcome) + "\">" + cell(p.target) + cell(p.network) +
             cell(probe_name(p)) + cell(p.outcome.empty() ? "not yet probed" : p.outcome) +
             (with_expect ? cell(expect) : "") + cell(reporter) + cell(when(p.last_change, v.now)) +
             cell(labels) + "</tr>\n";
    };
    h += "<h2>Probes</h2>\n<table id=\"probes\"><thead><tr><th>target</th><th>network</th>"
         "<th>probe</th><th>outcome</th><th>expected</th><th>reported by, or found</th>"
         "<th>since</th><th>labels</th></tr></thead><tbody>\n";
    for (const auto* p : probes)
        row(*p, true);
    h += "</tbody></table>\n";
    // On request (no script: a details element): what fails because the config says it should.
    h += "<details id=\"expected\"><summary>" + std::to_string(expected_rows.size()) +
         " failing as the config expects: services the policy denies, stopped, and targets "
         "declared to fail</summary>\n<table id=\"expected-probes\"><thead><tr><th>target</th>"
         "<th>network</th><th>probe</th><th>outcome</th><th>expected</th><th>reported by</th>"
         "<th>since</th><th>labels</th></tr></thead><tbody>\n";
    for (const auto* p : expected_rows)
        row(*p, true);
    h += "</tbody></table></details>\n";

    h += "<h2>Paths</h2>\n";
    if (v.paths.empty()) h += "<p>No path traced yet (the path kind).</p>\n";
    for (const auto& path : v.paths) {
        h += "<h3 class=\"path\" data-target=\"" + escape_markup(path.target) + "\">" +
             escape_markup(path.target) +
             (path.service.empty() ? "" : " " + escape_markup(path.service)) + " <small>" +
             escape_markup(path.stop) + "</small></h3>\n<ol>";
        for (const auto& hop : path.hops)
            h += "<li value=\"" + escape_markup(hop.ttl) + "\">" +
                 (hop.hop.empty()
                      ? std::string("*")
                      : escape_markup(hop.hop) +
                            (hop.hop_network.empty()
                                 ? ""
                                 : " <small>" + escape_markup(hop.hop_network) + "</small>")) +
                 "</li>";
        h += "</ol>\n";
    }

    h += "<h2>Flows</h2>\n<table id=\"flows\"><thead><tr><th>flow</th><th>from</th><th>to</th>"
         "<th>service</th><th>expect</th><th>outcome</th><th>verdict</th><th>reported by</th>"
         "<th>where it stops</th><th>since</th><th>note</th></tr></thead><tbody>\n";
    for (const auto& f : v.flows) {
        const char* cls = f.state.empty() ? "none" : f.compliant ? "ok" : "bad";
        std::string reporter =
            f.reporter.empty()
                ? ""
                : f.reporter + (f.reporter_network.empty() ? "" : " (" + f.reporter_network + ")");
        // An application's refusal has no hop: the connection was made, and what stops the
        // data is at the destination or on the way (an application-aware firewall).
        std::string where = f.blocked_after;
        if (where.empty() && f.state.rfind("app_", 0) == 0)
            where = "past the handshake, to " + f.to;
        h += "<tr class=\"" + std::string(cls) + "\" data-flow=\"" + escape_markup(f.flow) + "\">" +
             cell(f.flow) + cell(f.from) + cell(f.to) + cell(f.service) + cell(f.expect) +
             cell(f.state.empty() ? "not yet checked" : f.state) + cell(f.verdict) +
             cell(reporter) + cell(where) + cell(when(f.last_change, v.now)) + cell(f.note) +
             "</tr>\n";
    }
    h += "</tbody></table>\n</body></html>\n";
    return h;
}

void StatusPage::set_config(const Config& config) {
    std::map<std::string, std::string> notes;
    for (const auto& f : config.flows)
        if (!f.note.empty()) notes[f.id] = f.note;
    std::lock_guard lock(mutex_);
    site_ = config.settings.site;
    flow_notes_ = std::move(notes);
}

std::string StatusPage::render() const {
    StatusView view;
    view.version = version_;
    view.now = static_cast<double>(realtime_ns()) / 1e9;
    jobs_.fill_status(view);
    flows_.fill_status(view);
    {
        std::lock_guard lock(mutex_);
        view.site = site_;
        for (auto& f : view.flows)
            if (auto it = flow_notes_.find(f.flow); it != flow_notes_.end()) f.note = it->second;
    }
    return render_status_page(view);
}

}  // namespace fedprobe
