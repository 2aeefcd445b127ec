// spdlog set-up: journald when systemd started us, stderr with timestamps otherwise.
#pragma once

#include <string>

namespace fedprobe {

// level: trace, debug, info, warn, error. Returns false when the level name is unknown.
bool setup_logging(const std::string& level);

}  // namespace fedprobe
