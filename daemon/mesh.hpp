// `fedprobe mesh`: the federation's clock offsets, fitted jointly (policy/clock_mesh.hpp) from
// the STAMP measurements in the appliances' scrapes: each appliance exports, per stamp target,
// the other's clock minus its own and the bound on it. Prints each site's offset, each pair's
// one-way delays with the fitted offsets, and each triangle's residual against its bound.
#pragma once

#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "policy/clock_mesh.hpp"

namespace fedprobe {

struct MeshOptions {
    std::string config;
    std::optional<std::string> site;
    std::string reference;             // empty: the config's site
    std::vector<std::string> scrapes;  // files of Prometheus text, "-" for stdin
    std::string format = "table";      // or "prometheus": the fit as gauges (a textfile)
};

// 0: fitted, every loop within its bound; 1: a loop is not (asymmetric paths or a clock that
// moved); 2: usage, config or scrape errors, or no measurements.
int run_mesh(const MeshOptions& options);

// The fedprobe_stamp_clock_offset_seconds / _error_seconds pairs in Prometheus text, joined by
// their labels; from = `site`, to = `network`. An error names `name:line` and why.
Result<std::vector<OffsetMeasurement>> read_offset_measurements(std::istream& in,
                                                                const std::string& name);

}  // namespace fedprobe
