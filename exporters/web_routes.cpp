#include "exporters/web_routes.hpp"

#include <atomic>

#include "exporters/basic_auth.hpp"
#include "exporters/http_gzip.hpp"
#include "exporters/status_page.hpp"
#include "exporters/web_health.hpp"

namespace fedprobe {

namespace {

std::atomic<const WebHealth*> g_health{nullptr};
std::atomic<const StatusPage*> g_page{nullptr};
std::atomic<BasicAuth*> g_auth{nullptr};
std::atomic<const MetricsWriter*> g_metrics{nullptr};

}  // namespace

void set_web_health(const WebHealth* health, BasicAuth* auth, const StatusPage* page,
                    const MetricsWriter* metrics) {
    g_auth.store(auth);
    g_page.store(page);
    g_metrics.store(metrics);
    g_health.store(health);
}

WebReply answer_web_request(const WebRequest& req) {
    WebReply out;
    const WebHealth* health = g_health.load();
    if (!health) return out;
    const StatusPage* page = g_page.load();
    const MetricsWriter* metrics = g_metrics.load();
    const std::string path(req.path);
    const bool is_page = page && path == "/";
    const bool is_metrics = metrics && path == "/metrics";
    WebHealth::Answer a =
        is_page || is_metrics ? WebHealth::Answer{200, ""} : health->answer(path.c_str());
    if (a.status == 0) return out;  // not a path of ours: 404
    out.head = req.method == "HEAD";
    if (!out.head && req.method != "GET") {
        out.status = 405;
        out.reason = "Method Not Allowed";
        out.body = "GET or HEAD only.\n";
        out.headers = {{"Allow", "GET, HEAD"}};
        out.head = false;
        return out;
    }
    if (BasicAuth* auth = g_auth.load()) {
        // A request without credentials is not a guess: only presented ones are checked.
        // Guessing is throttled per client address, not for everyone at once.
        auto credentials =
            req.authorization ? parse_basic_authorization(req.authorization) : std::nullopt;
        if (!credentials || !auth->check(req.remote, credentials->first, credentials->second)) {
            out.status = 401;
            out.reason = "Unauthorized";
            out.body = "Unauthorized\n";
            out.headers = {{"WWW-Authenticate", "Basic realm=\"fedprobe\""}};
            return out;
        }
    }
    if (is_metrics) {
        (*metrics)(out.body);
        out.headers = {{"X-Content-Type-Options", "nosniff"}};
        if (accepts_gzip(req.accept_encoding)) {
            if (auto z = gzip(out.body)) {
                std::string().swap(out.body);  // the plain text's memory goes before the write
                out.body = std::move(*z);
                out.headers.emplace_back("Content-Encoding", "gzip");
                out.headers.emplace_back("Vary", "Accept-Encoding");
            }
        }
        out.status = 200;
        out.reason = "OK";
        out.content_type = "text/plain; version=0.0.4";
        return out;
    }
    if (is_page) {
        // Rendered only once the credentials are checked: the page names every target.
        out.status = 200;
        out.reason = "OK";
        out.body = page->render();
        out.headers = {
            {"X-Content-Type-Options", "nosniff"},
            {"Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"}};
        out.content_type = "text/html";
        return out;
    }
    out.status = a.status;
    out.reason = a.status == 200 ? "OK" : "Service Unavailable";
    out.body = a.body;
    return out;
}

}  // namespace fedprobe
