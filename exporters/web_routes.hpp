// The HTTP listener's paths: /metrics (gzip when the client takes it), /-/healthy, /-/ready
// (web_health.hpp) and the status page at / (status_page.hpp), all behind the same basic auth
// when it is configured.
//
// The server (web_server.hpp) hands each request over; the routes build the whole reply. Not
// prometheus-cpp's Exposer: it cannot serve the other paths, and its /metrics builds every
// family as objects before writing a byte (three times the body's size, at 45 MB bodies).
//
// Threads: answer_web_request() on the HTTP server's threads, several at once;
// set_web_health() before the server starts and after it stopped.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fedprobe {

class BasicAuth;
class StatusPage;
class WebHealth;

// The body of /metrics, appended to `out`; called on the HTTP threads, several at once.
using MetricsWriter = std::function<void(std::string& out)>;

// What answer_web_request answers with: null health answers nothing (404); null auth means no
// credentials are asked for; null page leaves `/` unanswered (404); null metrics leaves
// /metrics unanswered (404).
void set_web_health(const WebHealth* health, BasicAuth* auth, const StatusPage* page = nullptr,
                    const MetricsWriter* metrics = nullptr);

// A request as the HTTP server hands it over, and the answer to write: the same plain and over
// TLS.
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

}  // namespace fedprobe
