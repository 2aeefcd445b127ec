// `fedprobe diff OLD NEW`: what changes between two federation files, by organisation, for a
// change board (federation/config_diff.hpp computes it). Runs on the calling thread.
#pragma once

#include <optional>
#include <string>

namespace fedprobe {

struct DiffOptions {
    std::string before, after;  // the files
    std::optional<std::string> site;
    std::string format = "table";  // table | json
};

// Exit code: 0 the files say the same, 1 they differ, 2 a file that does not load.
int run_diff(const DiffOptions& o);

}  // namespace fedprobe
