// Reads Prometheus' text exposition format (version 0.0.4): the samples of an appliance's
// /metrics, for the commands that join several appliances' views (`fedprobe blame`). The text
// comes from the network, so every line is checked and an error names the line and why.
// Pure functions; any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.hpp"

namespace fedprobe {

struct Sample {
    std::string name;
    // In the order written; a few per sample, so a vector (a map cost twice the memory).
    std::vector<std::pair<std::string, std::string>> labels;
    double value = 0;

    // The label's value, "" when it has none (as Prometheus reads an absent label).
    const std::string& label(std::string_view name) const;
};

// Every sample of `text` whose metric name starts with `prefix` ("" for all) and, when `names`
// is given, is one of them; comments and other metrics are skipped unread. `source` names the
// text in errors ("URL:LINE: why").
Result<std::vector<Sample>> read_exposition(std::string_view text, std::string_view prefix,
                                            const std::string& source,
                                            const std::vector<std::string>* names = nullptr);

}  // namespace fedprobe
