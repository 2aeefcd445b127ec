// Turns an appliance's exported series into the evidence that blame (blame.hpp) judges: its
// flows, its traces and its STAMP sessions. The samples may hold several appliances' series
// (the central Prometheus answers for all of them): they are told apart by their `site` label.
// Pure functions; any thread.
#pragma once

#include <string>
#include <vector>

#include "policy/blame.hpp"
#include "policy/exposition.hpp"

namespace fedprobe {

// The metric names blame reads, for a source that can be asked for just these.
const std::vector<std::string>& blame_metric_names();

// Adds the samples' evidence to `appliances`, one entry per `site` label (made when missing,
// marked answered). Samples without a site label are ignored.
void add_evidence(const std::vector<Sample>& samples, std::vector<ApplianceEvidence>& appliances);

}  // namespace fedprobe
