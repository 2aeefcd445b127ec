// Every path of the HTTP listener: /metrics; /-/healthy and /-/ready, as Prometheus' own
// components serve them, so a load balancer, a systemd check or Kubernetes can ask whether the
// appliance works; and the status page at / (status_page.hpp). All behind the same basic auth
// when it is configured.
//
// They are answered in civetweb's begin_request callback, before prometheus-cpp's Exposer sees
// the request: the Exposer cannot serve the other paths, and its /metrics builds every family
// as objects before writing a byte (three times the body's size, at 45 MB bodies).
//
// Threads: beat() and set_ready() on the probing thread; answer() and begin_web_request() on the
// HTTP server's threads. set_web_health() before the server starts and after it stopped.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
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

// The body of /metrics, appended to `out`; called on the HTTP threads, several at once.
using MetricsWriter = std::function<void(std::string& out)>;

// What begin_web_request answers with: null health leaves every request to the Exposer; null
// auth means no credentials are asked for; null page leaves `/` unanswered (404); null metrics
// leaves /metrics to the Exposer.
void set_web_health(const WebHealth* health, BasicAuth* auth, const StatusPage* page = nullptr,
                    const MetricsWriter* metrics = nullptr);

// civetweb's begin_request callback: records the client (remember_web_client), then answers
// /metrics (gzip when the client takes it), /-/healthy, /-/ready and the status page at /
// itself (returns 1); anything else goes on to the Exposer (0).
int begin_web_request(mg_connection* connection);

}  // namespace fedprobe
