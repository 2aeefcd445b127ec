// The HTTP listener's paths: /metrics (gzip when the client takes it), /-/healthy, /-/ready
// (web_health.hpp) and the status page at / (status_page.hpp), all behind the same basic auth
// when it is configured.
//
// They are answered in civetweb's begin_request callback, before prometheus-cpp's Exposer sees
// the request: the Exposer cannot serve the other paths, and its /metrics builds every family
// as objects before writing a byte (three times the body's size, at 45 MB bodies).
//
// Threads: begin_web_request() and end_web_request() on the HTTP server's threads; set_web_health()
// before the server starts and after it stopped.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct mg_connection;

namespace fedprobe {

class BasicAuth;
class StatusPage;
class WebHealth;

// The body of /metrics, appended to `out`; called on the HTTP threads, several at once.
using MetricsWriter = std::function<void(std::string& out)>;

// What begin_web_request answers with: null health leaves every request to the Exposer; null
// auth means no credentials are asked for; null page leaves `/` unanswered (404); null metrics
// leaves /metrics to the Exposer.
void set_web_health(const WebHealth* health, BasicAuth* auth, const StatusPage* page = nullptr,
                    const MetricsWriter* metrics = nullptr);

// A request as either HTTP server hands it over (civetweb for plain HTTP, libmicrohttpd for
// TLS), and the answer to write: the routes are the same on both.
struct WebRequest {
    std::string_view method, path;
    const char* authorization = nullptr;    // the header, or null
    const char* accept_encoding = nullptr;  // the header, or null
    std::string remote;                     // the client's address, for auth's throttling
};
struct WebReply {
    int status = 0;  // 0: not a path of ours
    std::string reason;
    std::vector<std::pair<std::string, std::string>> headers;  // beyond type and caching
    std::string content_type = "text/plain";
    std::string body;
    bool head = false;  // HEAD: the headers only
};
WebReply answer_web_request(const WebRequest& request);

// civetweb's begin_request callback: answers /metrics (gzip when the client takes it),
// /-/healthy, /-/ready and the status page at / itself (returns 1); anything else goes on to
// the Exposer (0), which answers 404.
int begin_web_request(mg_connection* connection);

// civetweb's end_request callback: after a /metrics request, gives the memory its body took
// back to the system. glibc keeps freed memory in the HTTP thread's arena, so without a trim
// RSS would sit at the size of the largest scrape for good.
void end_web_request(const mg_connection* connection, int status);

}  // namespace fedprobe
