#include "daemon/export.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "daemon/shipped_rules.hpp"
#include "federation/loader.hpp"

namespace fedprobe {

namespace {

std::string_view kind_name(NetworkKind k) {
    switch (k) {
        case NetworkKind::nhs:
            return "nhs";
        case NetworkKind::psn:
            return "psn";
        case NetworkKind::other:
            return "other";
    }
    return "other";
}

std::string targets_json(const Config& c) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& n : c.networks) {
        if (!n.appliance) continue;
        out.push_back(
            {{"targets", {n.appliance->str()}},
             {"labels", {{"site", n.id}, {"network_kind", std::string(kind_name(n.kind))}}}});
    }
    return out.dump(2) + "\n";
}

std::string prometheus_yml(const Config& c, const ExportOptions& o) {
    std::ostringstream y;
    y << "# Written by `fedprobe export prometheus` from " << nlohmann::json(c.path).dump()
      << ". Write it again after\n# changing the federation file; "
         "targets/fedprobe.json is re-read without a restart.\n"
         "global:\n  scrape_interval: 15s\n  evaluation_interval: 15s\n"
         "rule_files:\n  - rules/fedprobe.rules.yml\n  - rules/fedprobe.recording.yml\n"
         "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: "
         "[\"127.0.0.1:9093\"]\n"
         "scrape_configs:\n  - job_name: fedprobe\n"
         "    # Each appliance's series carry its own site label already; it wins over the\n"
         "    # target's, which labels the rest (up, scrape_duration_seconds).\n"
         "    honor_labels: true\n"
         "    file_sd_configs:\n      - files: [targets/fedprobe.json]\n"
         "  # The federation's verdicts: `fedprobe blame --serve 127.0.0.1:9642 --prometheus\n"
         "  # http://127.0.0.1:9090 --config FILE` beside this Prometheus judges every broken "
         "flow\n"
         "  # from both ends' series, afresh for each scrape (fedprobe_federation_fault_info).\n"
         "  - job_name: fedprobe-blame\n"
         "    honor_labels: true\n"
         "    scrape_timeout: 10s\n"
         "    static_configs:\n      - targets: [\"127.0.0.1:9642\"]\n";
    if (!c.settings.web.basic_auth_users.empty())
        // Quoted as JSON strings, which YAML reads the same: a user name or a path may hold
        // any character.
        y << "    basic_auth:\n      username: "
          << nlohmann::json(c.settings.web.basic_auth_users.begin()->first).dump()
          << "\n      # The password whose bcrypt hash is in [fedprobe.web] basic_auth_users.\n"
             "      password_file: "
          << nlohmann::json(o.password_file).dump() << "\n";
    return y.str();
}

std::string alertmanager_yml(const Config& c) {
    std::ostringstream y;
    y << "# Written by `fedprobe export prometheus` from " << nlohmann::json(c.path).dump()
      << ": an example that routes\n"
         "# each alert to the organisation that owns the failing side, and the rest to the NOC.\n"
         "# Fill in each receiver (email_configs, webhook_configs) and check it with\n"
         "# `amtool check-config alertmanager.yml`.\n"
         "route:\n  receiver: noc\n  group_by: [alertname, network]\n  group_wait: 30s\n"
         "  group_interval: 5m\n  repeat_interval: 4h\n  routes:\n"
         "    # A federation verdict pages the organisation that owns the broken segment, and\n"
         "    # only it; the flow's two ends, when they do not own it, are informed (ORG-info).\n"
         "    - matchers: "
         "['alertname=~\"FedprobeFederationFault|FedprobeFederationFaultUnplaced\"']\n"
         "      receiver: noc\n      group_by: [alertname, owner, flow]\n      routes:\n";
    for (const auto& n : c.networks) {
        const std::string q = "\"" + n.id + "\"";
        y << "        - {receiver: org-" << n.id << ", continue: true, matchers: ['owner=" << q
          << "']}\n"
          << "        - {receiver: org-" << n.id
          << "-info, continue: true, matchers: ['owner!=" << q << "', 'from_site=" << q << "']}\n"
          << "        - {receiver: org-" << n.id
          << "-info, continue: true, matchers: ['owner!=" << q << "', 'from_site!=" << q
          << "', 'to_network=" << q << "']}\n";
    }
    y << "        - {receiver: noc}\n";
    for (const auto& n : c.networks) {
        const std::string r = "org-" + n.id;
        y << "    # " << n.id
          << ": probes failing towards it, handshakes failing into it, and the\n"
          << "    # flows that start from it (a flow concerns both ends).\n"
          << "    - {receiver: " << r << ", continue: true, matchers: ['network=\"" << n.id
          << "\"']}\n"
          << "    - {receiver: " << r << ", continue: true, matchers: ['dst_network=\"" << n.id
          << "\"']}\n"
          << "    - {receiver: " << r << ", continue: true, matchers: ['site=\"" << n.id
          << "\"', 'alertname=~\"FedprobeAllowFlowBlocked|FedprobeDenyFlowViolation\"']}\n";
    }
    y << "    # The NOC sees everything.\n    - {receiver: noc}\n"
         "receivers:\n  - name: noc\n";
    for (const auto& n : c.networks)
        y << "  - name: org-" << n.id << "\n  - name: org-" << n.id << "-info\n";
    y << "inhibit_rules:\n"
         "  # A whole organisation unreachable from a site is one alert, not one per target.\n"
         "  - source_matchers: ['alertname=\"FedprobeNetworkUnreachable\"']\n"
         "    target_matchers: ['alertname=~\"FedprobeTargetFailing|FedprobeIcmpLoss|"
         "FedprobeTlsFailing|FedprobeAllowFlowBlocked|FedprobeIdleTimeoutBelowRequired\"']\n"
         "    equal: [site, network]\n"
         "  # A capture that is down says nothing about the handshakes it no longer sees.\n"
         "  - source_matchers: ['alertname=\"FedprobeCaptureDown\"']\n"
         "    target_matchers: ['alertname=\"FedprobePassiveHandshakesFailing\"']\n"
         "    equal: [site]\n";
    return y.str();
}

bool write(const std::filesystem::path& path, const std::string& text) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << text;
    f.close();
    if (!f) {
        std::cerr << "fedprobe export: cannot write " << path.string() << ": "
                  << (ec ? ec.message() : std::strerror(errno)) << "\n";
        return false;
    }
    return true;
}

}  // namespace

int run_export(const ExportOptions& o) {
    auto loaded = load_config_file(o.config, o.site);
    std::size_t errors = 0;
    for (const auto& d : loaded.diagnostics) {
        std::cerr << d.format() << "\n";
        errors += d.severity == Diagnostic::Severity::error;
    }
    if (!loaded.config) {
        std::cerr << o.config << ": " << errors << " error(s)\n";
        return 1;
    }
    const Config& c = *loaded.config;
    std::size_t targets = 0;
    for (const auto& n : c.networks) {
        if (n.appliance)
            ++targets;
        else
            std::cerr << o.config << ": warning: network '" << n.id
                      << "' has no appliance address: left out of the scrape targets\n";
    }
    const std::filesystem::path dir(o.out);
    if (!write(dir / "targets" / "fedprobe.json", targets_json(c)) ||
        !write(dir / "prometheus.yml", prometheus_yml(c, o)) ||
        !write(dir / "rules" / "fedprobe.rules.yml", kShippedAlertRules) ||
        !write(dir / "rules" / "fedprobe.recording.yml", kShippedRecordingRules) ||
        !write(dir / "alertmanager.yml", alertmanager_yml(c)))
        return 1;
    std::cout << o.out << ": " << targets << " scrape target(s) of " << c.networks.size()
              << " networks, prometheus.yml, rules/, alertmanager.yml\n";
    return 0;
}

}  // namespace fedprobe
