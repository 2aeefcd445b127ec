// `fedprobe check`: runs this site's flows of the policy once, in parallel within the rate
// limit, and reports compliance as a table, JSON or JUnit, optionally against a baseline.
#pragma once

#include <optional>
#include <string>

namespace fedprobe {

struct CheckOptions {
    std::string config;
    std::optional<std::string> site;
    std::string flow_pattern;      // only flows whose id contains it
    std::string format = "table";  // table | json | junit
    std::string save;              // write the JSON result here too
    std::string baseline;          // compare with a saved JSON result
    bool trace_blocked = true;     // trace allow flows found filtered (path:SERVICE)
    bool mtu = false;              // trace allow flows that work, with a path MTU search
};

// 0: every flow compliant (or, with a baseline, none newly broken); 1: not; 2: usage/config error.
int run_check(const CheckOptions& options);

}  // namespace fedprobe
