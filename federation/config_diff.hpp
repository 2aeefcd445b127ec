// What changes between two federation files, in a change board's terms: each network, service,
// target and flow added, removed or changed (key by key), and the [fedprobe] settings, with the
// organisations (network ids) each change touches. `fedprobe diff` prints it. Pure: over two
// files' text that already loaded without errors; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace fedprobe {

struct KeyChange {
    std::string key;
    std::string before, after;  // as TOML writes the value; "" where the key is absent
};

struct ConfigChange {
    std::string what;    // network, service, target, flow, settings
    std::string id;      // the entry's id ("[fedprobe]" for the settings)
    std::string change;  // added, removed, changed
    // The network ids it touches: a network itself; a target's network; a flow's sources and
    // its destination's network; a service's flows' networks. {"every appliance"} for the
    // settings, which every appliance runs.
    std::vector<std::string> organisations;
    std::vector<KeyChange> keys;  // what differs (added or removed: every key of the entry)
};

inline constexpr const char* kEveryAppliance = "every appliance";

// The changes from `before` to `after` (each a federation file's text), in file order: the
// settings, networks, services, targets, then flows. A file that is not TOML is an error;
// comments, whitespace and the order of entries or keys are not changes.
Result<std::vector<ConfigChange>> diff_configs(std::string_view before, std::string_view after);

}  // namespace fedprobe
