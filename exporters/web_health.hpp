// /-/healthy and /-/ready, as Prometheus' own components serve them, so a load balancer, a
// systemd check or Kubernetes can ask whether the appliance works; and the parsing of basic
// credentials. web_routes.hpp answers the requests.
//
// Threads: beat() and set_ready() on the probing thread; answer() on the HTTP server's threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace fedprobe {

class WebHealth {
  public:
    using Clock = std::chrono::steady_clock;

    // Healthy while the probing loop has beaten within `stale_after`.
    explicit WebHealth(std::chrono::milliseconds stale_after) : stale_after_(stale_after) {}

    void beat(Clock::time_point now = Clock::now()) {
        last_beat_.store(now.time_since_epoch().count(), std::memory_order_relaxed);
    }
    // Ready: a config is applied and probing; not ready before that and while stopping.
    void set_ready(bool ready) { ready_.store(ready, std::memory_order_relaxed); }

    struct Answer {
        int status = 0;  // 0: not a path of ours
        std::string body;
    };
    Answer answer(std::string_view path, Clock::time_point now = Clock::now()) const;

  private:
    std::chrono::milliseconds stale_after_;
    std::atomic<Clock::rep> last_beat_{0};
    std::atomic<bool> ready_{false};
};

// "Basic dXNlcjpwYXNz" -> {"user", "pass"}; nullopt when the header is not valid basic
// credentials (another scheme, bad base64, no colon).
std::optional<std::pair<std::string, std::string>> parse_basic_authorization(
    std::string_view header);

}  // namespace fedprobe
