// Durations in config files, in Prometheus' notation: "500ms", "15s", "1m30s", "2h".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace fedprobe {

using Duration = std::chrono::nanoseconds;

std::optional<Duration> parse_duration(std::string_view text);
std::string format_duration(Duration d);
double to_seconds(Duration d);

}  // namespace fedprobe
