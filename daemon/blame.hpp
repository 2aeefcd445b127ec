// `fedprobe blame`: gathers every appliance's evidence (scrape URLs, files of /metrics text, or
// the central Prometheus's HTTP API), judges it (policy/blame.hpp), and prints each broken flow
// with its segment, owner and evidence, as a table or as JSON. Runs on the calling thread;
// fetches one source after another. With --serve, the HTTP server's threads gather and judge
// for each scrape, one at a time, and the calling thread waits for SIGINT or SIGTERM.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "policy/blame.hpp"
#include "policy/exposition.hpp"

namespace fedprobe {

struct BlameOptions {
    std::string config;
    std::optional<std::string> site;
    std::vector<std::string> sources;  // URLs, files, or "-"
    std::string prometheus;            // base URL of the central Prometheus, or ""
    std::string format = "table";      // or "json"
    std::string serve;                 // ADDRESS:PORT: serve the verdicts as series instead
};

// 0: every flow complies; 1: a flow does not; 2: usage, config or source error.
int run_blame(const BlameOptions& options);

// The JSON document (schema version 1) and the table, for the command and its tests.
// `errors`: sources that could not be read (the verdicts are then partial).
std::string blame_json(const std::vector<Fault>& faults,
                       const std::vector<std::string>& errors = {});
std::string blame_table(const std::vector<Fault>& faults,
                        const std::vector<std::string>& errors = {});

// The verdicts as Prometheus series (--serve): one fedprobe_federation_fault_info per broken
// flow, which appliances gave evidence, and how long it took.
std::string blame_exposition(const std::vector<Fault>& faults,
                             const std::vector<ApplianceEvidence>& appliances, double seconds,
                             std::size_t source_errors);

// What the central Prometheus answers to an instant query, as samples; an error says why.
Result<std::vector<Sample>> samples_from_prometheus_json(const std::string& body,
                                                         const std::string& source);

}  // namespace fedprobe
