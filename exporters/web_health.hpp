// /-/healthy and /-/ready on the metrics listener, as Prometheus' own components serve them, so
// a load balancer, a systemd check or Kubernetes can ask whether the appliance works; and the
// status page at / (status_page.hpp). Behind the same basic auth as /metrics when it is
// configured.
//
// prometheus-cpp's Exposer serves only metrics, so these are answered in civetweb's
// begin_request callback, before the Exposer sees the request.
//
// Threads: beat() and set_ready() on the probing thread; answer() and begin_web_request() on the
// HTTP server's threads. set_web_health() before the server starts and after it stopped.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

struct mg_connection;

namespace fedprobe {

class BasicAuth;

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

class StatusPage;

// What begin_web_request answers with: null health leaves every request to the Exposer; null
// auth means no credentials are asked for; null page leaves `/` unanswered (404).
void set_web_health(const WebHealth* health, BasicAuth* auth, const StatusPage* page = nullptr);

// civetweb's begin_request callback: records the client (remember_web_client), then answers
// /-/healthy, /-/ready and the status page at / itself (returns 1); anything else goes on to
// the Exposer (0).
int begin_web_request(mg_connection* connection);

}  // namespace fedprobe
