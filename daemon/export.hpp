// `fedprobe export prometheus`: what the central Prometheus and Alertmanager of a federation
// need, from the same federation file the appliances run: scrape targets (file_sd, one per
// network with an `appliance` address, labelled with its site), a prometheus.yml that scrapes
// them with basic auth, the shipped alerting and recording rules, and an Alertmanager config
// that routes each alert to the organisation that owns the failing side.
#pragma once

#include <optional>
#include <string>

namespace fedprobe {

struct ExportOptions {
    std::string config;
    std::optional<std::string> site;
    std::string out;  // the directory to write into (made if need be)
    std::string password_file = "/etc/prometheus/fedprobe.password";
};

// 0: written; 1: the config has errors or a file could not be written; 2: usage.
int run_export(const ExportOptions& options);

}  // namespace fedprobe
