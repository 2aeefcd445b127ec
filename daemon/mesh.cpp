#include "daemon/mesh.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "config/config_file.hpp"
#include "config/diagnostic.hpp"
#include "federation/loader.hpp"

namespace fedprobe {

namespace {

constexpr std::string_view kOffset = "fedprobe_stamp_clock_offset_seconds";
constexpr std::string_view kError = "fedprobe_stamp_clock_offset_error_seconds";

// Parses `{a="x",b="y"}`; false on a malformed set.
bool parse_labels(std::string_view s, std::map<std::string, std::string>& out) {
    std::size_t i = 0;
    while (i < s.size()) {
        const std::size_t eq = s.find('=', i);
        if (eq == std::string_view::npos || eq + 1 >= s.size() || s[eq + 1] != '"') return false;
        std::string key(s.substr(i, eq - i)), value;
        std::size_t j = eq + 2;
        for (; j < s.size() && s[j] != '"'; ++j) {
            if (s[j] == '\\' && j + 1 < s.size()) {
                ++j;
                value += s[j] == 'n' ? '\n' : s[j];
            } else {
                value += s[j];
            }
        }
        if (j >= s.size()) return false;
        out[key] = value;
        i = j + 1;
        if (i < s.size() && s[i] == ',') ++i;
    }
    return true;
}

std::string ms(double seconds) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%+.3f", seconds * 1e3);
    return buf;
}
std::string ms_abs(double seconds) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", seconds * 1e3);
    return buf;
}

// The fit as gauges, for node_exporter's textfile collector (or any file Prometheus reads):
// labels are the config's network ids and target ids, so bounded by the config.
void print_prometheus(const MeshFit& fit) {
    auto family = [](const char* name, const char* help) {
        std::printf("# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
    };
    family("fedprobe_mesh_clock_offset_seconds",
           "Each site's clock minus the reference site's, fitted over the STAMP mesh");
    for (const auto& [site, off] : fit.offset)
        std::printf("fedprobe_mesh_clock_offset_seconds{site=\"%s\",reference=\"%s\"} %.9g\n",
                    site.c_str(), fit.reference.c_str(), off);
    family("fedprobe_mesh_clock_offset_error_seconds", "The least-squares error of that offset");
    for (const auto& [site, err] : fit.error)
        std::printf("fedprobe_mesh_clock_offset_error_seconds{site=\"%s\",reference=\"%s\"} %.9g\n",
                    site.c_str(), fit.reference.c_str(), err);
    const std::pair<const char*, const char*> delays[] = {
        {"fedprobe_mesh_forward_delay_seconds",
         "One-way delay from site to target, with the fitted offsets"},
        {"fedprobe_mesh_backward_delay_seconds",
         "One-way delay from target to site, with the fitted offsets"},
        {"fedprobe_mesh_delay_error_seconds", "The bound on both one-way delays"}};
    for (int i = 0; i < 3; ++i) {
        family(delays[i].first, delays[i].second);
        for (const auto& p : fit.pairs)
            std::printf("%s{site=\"%s\",network=\"%s\",target=\"%s\"} %.9g\n", delays[i].first,
                        p.measured.from.c_str(), p.measured.to.c_str(), p.measured.target.c_str(),
                        i == 0   ? p.forward
                        : i == 1 ? p.backward
                                 : p.delay_error);
    }
    family("fedprobe_mesh_loop_residual_seconds",
           "The measured offsets summed around a triangle of sites (0 with symmetric paths)");
    for (const auto& l : fit.loops)
        std::printf("fedprobe_mesh_loop_residual_seconds{a=\"%s\",b=\"%s\",c=\"%s\"} %.9g\n",
                    l.sites[0].c_str(), l.sites[1].c_str(), l.sites[2].c_str(), l.residual);
    family("fedprobe_mesh_loop_bound_seconds", "The sum of that triangle's error bounds");
    for (const auto& l : fit.loops)
        std::printf("fedprobe_mesh_loop_bound_seconds{a=\"%s\",b=\"%s\",c=\"%s\"} %.9g\n",
                    l.sites[0].c_str(), l.sites[1].c_str(), l.sites[2].c_str(), l.bound);
}

}  // namespace

Result<std::vector<OffsetMeasurement>> read_offset_measurements(std::istream& in,
                                                                const std::string& name) {
    // Keyed by the whole label set, so each target's two gauges meet.
    std::map<std::map<std::string, std::string>, std::pair<double, double>> found;
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        if (line.empty() || line[0] == '#') continue;
        const bool offset = line.starts_with(std::string(kOffset) + "{");
        const bool error = line.starts_with(std::string(kError) + "{");
        if (!offset && !error) continue;
        const std::size_t open = (offset ? kOffset : kError).size();
        const std::size_t close = line.find("} ", open);
        std::map<std::string, std::string> labels;
        if (close == std::string::npos ||
            !parse_labels(std::string_view(line).substr(open + 1, close - open - 1), labels))
            return Status::error(name + ":" + std::to_string(n) + ": cannot read the labels of " +
                                 quote_excerpt(line));
        if (!labels.count("site") || !labels.count("network"))
            return Status::error(name + ":" + std::to_string(n) +
                                 ": a STAMP offset without site and network labels");
        double v = 0;
        const std::string text = line.substr(close + 2, line.find(' ', close + 2) - close - 2);
        try {
            std::size_t used = 0;
            v = std::stod(text, &used);
            if (used != text.size()) throw std::invalid_argument(text);
        } catch (const std::exception&) {  // std::stod's edge: a value that is not a number
            return Status::error(name + ":" + std::to_string(n) + ": " + quote_excerpt(text) +
                                 " is not a number");
        }
        auto& slot = found.try_emplace(labels, std::nan(""), std::nan("")).first->second;
        (offset ? slot.first : slot.second) = v;
    }
    if (in.bad()) return Status::error(name + ": read error");
    std::vector<OffsetMeasurement> out;
    for (const auto& [labels, v] : found) {
        if (std::isnan(v.first) || std::isnan(v.second)) continue;  // a round said nothing yet
        auto target = labels.find("target");
        out.push_back(OffsetMeasurement{labels.at("site"), labels.at("network"),
                                        target == labels.end() ? "" : target->second, v.first,
                                        v.second, 2 * v.second});
    }
    return out;
}

int run_mesh(const MeshOptions& o) {
    LoadResult loaded = load_config_file(o.config, o.site);
    for (const auto& d : loaded.diagnostics)
        if (d.severity == Diagnostic::Severity::error) std::cerr << d.format() << "\n";
    if (!loaded.config) return 2;
    const Config& config = *loaded.config;
    std::vector<OffsetMeasurement> all;
    for (const auto& path : o.scrapes) {
        // Bounded, and regular files only: `mesh F /dev/zero` must not take the machine's memory.
        auto text = path == "-" ? read_bounded(std::cin, 64u << 20, "stdin")
                                : read_config_file(path, 64u << 20, "a scrape");
        if (!text.ok()) {
            std::cerr << "fedprobe mesh: cannot read " << path << ": " << text.status().message()
                      << "\n";
            return 2;
        }
        std::istringstream in(*text);
        auto got = read_offset_measurements(in, path == "-" ? "stdin" : path);
        if (!got.ok()) {
            std::cerr << got.status().message() << "\n";
            return 2;
        }
        all.insert(all.end(), got->begin(), got->end());
    }
    for (const auto& m : all)
        for (const std::string* id : {&m.from, &m.to})
            if (!config.network(*id)) {
                std::cerr << "fedprobe mesh: the scrapes name network " << quote_excerpt(*id)
                          << ", which " << o.config << " does not declare\n";
                return 2;
            }
    if (all.empty()) {
        std::cerr << "fedprobe mesh: no STAMP offsets in the scrapes (fedprobe_stamp_clock_offset_"
                     "seconds): are stamp targets configured and answered?\n";
        return 2;
    }
    const std::string reference = o.reference.empty() ? config.settings.site : o.reference;
    if (!config.network(reference)) {
        std::cerr << "fedprobe mesh: --reference " << quote_excerpt(reference)
                  << " is not a declared network\n";
        return 2;
    }
    const MeshFit fit = fit_clock_mesh(all, reference);
    int inconsistent = 0;
    for (const auto& l : fit.loops)
        inconsistent += l.consistent() ? 0 : 1;
    if (o.format == "prometheus") {
        print_prometheus(fit);
        return inconsistent ? 1 : 0;
    }
    std::printf("clock offsets relative to %s, fitted over %zu measurements\n\n",
                fit.reference.c_str(), all.size());
    std::printf("%-16s %12s %10s\n", "site", "offset ms", "+/- ms");
    for (const auto& [site, off] : fit.offset)
        std::printf("%-16s %12s %10s\n", site.c_str(), ms(off).c_str(),
                    ms_abs(fit.error.at(site)).c_str());
    for (const auto& s : fit.unreached)
        std::printf("%-16s %12s   (no chain of measurements joins it to %s)\n", s.c_str(), "?",
                    fit.reference.c_str());
    std::printf("\n%-16s %-16s %9s %11s %11s %8s %12s\n", "from", "to", "rtt ms", "forward ms",
                "backward ms", "+/- ms", "residual ms");
    for (const auto& p : fit.pairs)
        std::printf("%-16s %-16s %9s %11s %11s %8s %12s\n", p.measured.from.c_str(),
                    p.measured.to.c_str(), ms_abs(p.measured.rtt).c_str(),
                    ms_abs(p.forward).c_str(), ms_abs(p.backward).c_str(),
                    ms_abs(p.delay_error).c_str(), ms(p.residual).c_str());
    if (!fit.loops.empty()) {
        std::printf(
            "\nloops (the measured offsets around each triangle sum to 0 when paths are "
            "symmetric)\n");
        for (const auto& l : fit.loops) {
            std::printf("%s -> %s -> %s: %s ms, bound %s ms, %s\n", l.sites[0].c_str(),
                        l.sites[1].c_str(), l.sites[2].c_str(), ms(l.residual).c_str(),
                        ms_abs(l.bound).c_str(),
                        l.consistent() ? "consistent"
                                       : "NOT consistent: asymmetric paths or a clock that moved");
        }
    }
    return inconsistent ? 1 : 0;
}

}  // namespace fedprobe
