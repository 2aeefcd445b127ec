// Talks to systemd's notify socket (Type=notify): readiness, reloads, status, watchdog.
// Every call is a no-op when not started by systemd.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace fedprobe::systemd {

void ready(const std::string& status);
void reloading();
void stopping();
void status(const std::string& status);
void watchdog();
// The watchdog period systemd asked for (WatchdogSec), if any.
std::optional<std::chrono::microseconds> watchdog_interval();

}  // namespace fedprobe::systemd
