#include "daemon/passive.hpp"

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>
#include <tuple>
#include <vector>

#include "capture/offline_analysis.hpp"
#include "federation/loader.hpp"

namespace fedprobe {

namespace {

struct Row {
    std::string src, dst, third;  // service, or the reporter's network for ICMP errors
    PassiveOutcome outcome;
    std::uint64_t count;
    bool operator<(const Row& o) const {
        return std::tie(src, dst, third, outcome) < std::tie(o.src, o.dst, o.third, o.outcome);
    }
};

std::vector<Row> rows_of(const std::unordered_map<std::uint64_t, PassiveCounts::Outcomes>& cells,
                         const std::vector<std::string>& first_two,
                         const std::vector<std::string>& third) {
    std::vector<Row> rows;
    for (const auto& [key, outcomes] : cells) {
        auto k = PassiveCounts::unkey(key);
        for (std::size_t o = 0; o < outcomes.size(); ++o)
            if (outcomes[o])
                rows.push_back(Row{first_two[k[0]], first_two[k[1]], third[k[2]],
                                   static_cast<PassiveOutcome>(o), outcomes[o]});
    }
    std::sort(rows.begin(), rows.end());
    return rows;
}

void print_table(std::ostream& out, const std::vector<Row>& rows, const char* third) {
    std::size_t w[3] = {11, 11, std::string(third).size()};
    for (const auto& r : rows) {
        w[0] = std::max(w[0], r.src.size());
        w[1] = std::max(w[1], r.dst.size());
        w[2] = std::max(w[2], r.third.size());
    }
    auto cell = [&](const std::string& s, std::size_t width) {
        out << s << std::string(width - s.size() + 2, ' ');
    };
    cell("src_network", w[0]);
    cell("dst_network", w[1]);
    cell(third, w[2]);
    out << "outcome      count\n";
    for (const auto& r : rows) {
        cell(r.src, w[0]);
        cell(r.dst, w[1]);
        cell(r.third, w[2]);
        std::string o(to_string(r.outcome));
        out << o << std::string(13 - o.size(), ' ') << r.count << "\n";
    }
}

}  // namespace

int run_passive(const PassiveOptions& opt) {
    auto loaded = load_config_file(opt.config, opt.site);
    for (const auto& d : loaded.diagnostics)
        if (d.severity == Diagnostic::Severity::error) std::cerr << d.format() << "\n";
    if (!loaded.config) return 2;
    auto analysis = analyse_capture_file(opt.read, *loaded.config);
    if (!analysis.ok()) {
        std::cerr << "fedprobe passive: " << analysis.status().message() << "\n";
        return 1;
    }
    const OfflineAnalysis& a = *analysis;
    const auto& nets = a.labels.networks();
    auto handshakes = rows_of(a.counts.handshakes, nets, a.labels.services());
    auto icmp = rows_of(a.counts.icmp_errors, nets, nets);
    if (opt.format == "json") {
        nlohmann::ordered_json j;
        j["version"] = 1;
        j["rows"] = nlohmann::ordered_json::array();
        for (const auto& r : handshakes)
            j["rows"].push_back({{"src_network", r.src},
                                 {"dst_network", r.dst},
                                 {"service", r.third},
                                 {"outcome", std::string(to_string(r.outcome))},
                                 {"count", r.count}});
        j["icmp_errors"] = nlohmann::ordered_json::array();
        for (const auto& r : icmp)
            j["icmp_errors"].push_back({{"src_network", r.src},
                                        {"dst_network", r.dst},
                                        {"reporter_network", r.third},
                                        {"outcome", std::string(to_string(r.outcome))},
                                        {"count", r.count}});
        j["packets"] = a.counts.packets;
        j["syns"] = a.counts.syns;
        j["truncated"] = a.counts.truncated;
        j["malformed"] = a.counts.malformed;
        j["unfinished"] = a.unfinished;
        j["flow_table_full"] = a.counts.flow_table_full;
        j["evicted"] = a.counts.evicted;
        if (!a.read_error.empty()) j["read_error"] = a.read_error;
        std::cout << j.dump(2) << "\n";
    } else {
        print_table(std::cout, handshakes, "service");
        if (!icmp.empty()) {
            std::cout << "\nICMP errors quoting a packet between them, by who sent them:\n";
            print_table(std::cout, icmp, "reporter_network");
        }
        std::cout << "\n"
                  << opt.read << ": " << a.counts.packets << " packets, " << a.counts.syns
                  << " SYNs";
        if (a.counts.truncated) std::cout << ", " << a.counts.truncated << " truncated";
        if (a.counts.malformed) std::cout << ", " << a.counts.malformed << " malformed";
        std::cout << "\n";
        if (a.unfinished)
            std::cout << a.unfinished
                      << " handshake(s) still waiting for an answer when the capture ended, "
                         "within the timeout: not counted\n";
        if (a.counts.flow_table_full)
            std::cout << a.counts.flow_table_full
                      << " handshake(s) not followed: the flow table was full (raise "
                         "[fedprobe.capture] max_flows)\n";
    }
    if (!a.read_error.empty()) {
        std::cerr << "fedprobe passive: " << opt.read << ": " << a.read_error
                  << " (counted up to there)\n";
        return 1;
    }
    return 0;
}

}  // namespace fedprobe
