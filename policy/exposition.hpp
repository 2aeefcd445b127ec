// Reads Prometheus' text exposition format (version 0.0.4): the samples of an appliance's
// /metrics, for the commands that join several appliances' views (`fedprobe blame`). The text
// comes from the network, so every line is checked and an error names the line and why.
// Pure functions; any thread.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace fedprobe {

struct Sample {
    std::string name;
    std::map<std::string, std::string> labels;
    double value = 0;
};

// Every sample of `text` whose metric name starts with `prefix` ("" for all); comments and
// other metrics are skipped unread. `source` names the text in errors ("URL:LINE: why").
Result<std::vector<Sample>> read_exposition(std::string_view text, std::string_view prefix,
                                            const std::string& source);

}  // namespace fedprobe
