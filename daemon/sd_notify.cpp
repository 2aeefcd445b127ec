#include "daemon/sd_notify.hpp"

#include <systemd/sd-daemon.h>
#include <time.h>

namespace fedprobe::systemd {

namespace {
void send(const std::string& text) {
    sd_notify(0, text.c_str());
}
}  // namespace

void ready(const std::string& status) {
    send("READY=1\nSTATUS=" + status);
}

void reloading() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long usec = static_cast<long long>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
    send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void stopping() {
    send("STOPPING=1");
}
void status(const std::string& s) {
    send("STATUS=" + s);
}
void watchdog() {
    send("WATCHDOG=1");
}

std::optional<std::chrono::microseconds> watchdog_interval() {
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) return std::chrono::microseconds(usec);
    return std::nullopt;
}

}  // namespace fedprobe::systemd
