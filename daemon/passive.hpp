// `fedprobe passive --read CAPTURE`: the passive handshake analysis over a capture file (for
// example one a firewall team sends), printed as one row per (src_network, dst_network, service,
// outcome) with its count, as a table or JSON (schema version 1).
#pragma once

#include <optional>
#include <string>

namespace fedprobe {

struct PassiveOptions {
    std::string config;
    std::optional<std::string> site;
    std::string read;              // the capture file
    std::string format = "table";  // table | json
};

// 0: the file was read; 1: it could not be (the reason on stderr); 2: usage or config error.
int run_passive(const PassiveOptions& options);

}  // namespace fedprobe
