// Reading the bytes of a config file safely: only a regular file, at most kMaxConfigBytes, and
// never blocking on a FIFO or a device. A federation file of 100,000 targets is 11 to 15 MB
// (toml++ needs about 20 times that while it parses); a larger "config" is a mistake
// (`--config /dev/zero`, a log file) that must get an error, not take the appliance's memory or
// stall the prober. Any thread; no shared state.
#pragma once

#include <cstddef>
#include <istream>
#include <string>
#include <string_view>

#include "core/status.hpp"

namespace fedprobe {

inline constexpr std::size_t kMaxConfigBytes = 16 * 1024 * 1024;

// The whole file, or why not: "is a directory, not a regular file", "is 52428800 bytes; a
// config file may be at most 16777216", "cannot open: Permission denied".
// `what` names the file in the size error ("a baseline"), for the other files the commands read
// whole (check --baseline, mesh's scrapes, blame's sources) with the same guards.
Result<std::string> read_config_file(const std::string& path,
                                     std::size_t max_bytes = kMaxConfigBytes,
                                     std::string_view what = "a config file");

// At most `max_bytes` of a stream (standard input), or why not.
Result<std::string> read_bounded(std::istream& in, std::size_t max_bytes, std::string_view name);

}  // namespace fedprobe
