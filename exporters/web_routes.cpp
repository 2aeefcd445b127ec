#include "exporters/web_routes.hpp"

#include <civetweb.h>
#include <malloc.h>

#include <atomic>
#include <cstring>

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

void respond(mg_connection* c, int status, const char* reason, const std::string& body, bool head,
             const char* extra_header = "", const char* type = "text/plain") {
    mg_printf(c,
              "HTTP/1.1 %d %s\r\nContent-Type: %s; charset=utf-8\r\n"
              "Content-Length: %zu\r\nCache-Control: no-store\r\n%sConnection: close\r\n\r\n",
              status, reason, type, body.size(), extra_header);
    if (!head) mg_write(c, body.data(), body.size());
}

}  // namespace

void set_web_health(const WebHealth* health, BasicAuth* auth, const StatusPage* page,
                    const MetricsWriter* metrics) {
    g_auth.store(auth);
    g_page.store(page);
    g_metrics.store(metrics);
    g_health.store(health);
}

int begin_web_request(mg_connection* connection) {
    const WebHealth* health = g_health.load();
    const mg_request_info* info = mg_get_request_info(connection);
    if (!health || !info || !info->local_uri) return 0;
    const StatusPage* page = g_page.load();
    const MetricsWriter* metrics = g_metrics.load();
    const bool is_page = page && std::strcmp(info->local_uri, "/") == 0;
    const bool is_metrics = metrics && std::strcmp(info->local_uri, "/metrics") == 0;
    WebHealth::Answer a =
        is_page || is_metrics ? WebHealth::Answer{200, ""} : health->answer(info->local_uri);
    if (a.status == 0) return 0;  // not a path of ours: the Exposer answers 404
    const bool head = info->request_method && std::strcmp(info->request_method, "HEAD") == 0;
    if (!head && (!info->request_method || std::strcmp(info->request_method, "GET") != 0)) {
        respond(connection, 405, "Method Not Allowed", "GET or HEAD only.\n", false,
                "Allow: GET, HEAD\r\n");
        return 1;
    }
    if (BasicAuth* auth = g_auth.load()) {
        // A request without credentials is not a guess: only presented ones are checked.
        // Guessing is throttled per client address, not for everyone at once.
        const char* header = mg_get_header(connection, "Authorization");
        auto credentials = header ? parse_basic_authorization(header) : std::nullopt;
        if (!credentials ||
            !auth->check(info->remote_addr, credentials->first, credentials->second)) {
            respond(connection, 401, "Unauthorized", "Unauthorized\n", head,
                    "WWW-Authenticate: Basic realm=\"fedprobe\"\r\n");
            return 1;
        }
    }
    if (is_metrics) {
        std::string body;
        (*metrics)(body);
        std::string headers = "X-Content-Type-Options: nosniff\r\n";
        if (accepts_gzip(mg_get_header(connection, "Accept-Encoding"))) {
            if (auto z = gzip(body)) {
                std::string().swap(body);  // the plain text's memory goes before the write
                body = std::move(*z);
                headers += "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n";
            }
        }
        respond(connection, 200, "OK", body, head, headers.c_str(), "text/plain; version=0.0.4");
        return 1;
    }
    if (is_page) {
        // Rendered only once the credentials are checked: the page names every target.
        respond(connection, 200, "OK", page->render(), head,
                "X-Content-Type-Options: nosniff\r\nContent-Security-Policy: default-src 'none'; "
                "style-src 'unsafe-inline'\r\n",
                "text/html");
        return 1;
    }
    respond(connection, a.status, a.status == 200 ? "OK" : "Service Unavailable", a.body, head);
    return 1;
}

void end_web_request(const mg_connection* connection, int /*status*/) {
    const mg_request_info* info = mg_get_request_info(connection);
    if (info && info->local_uri && std::strcmp(info->local_uri, "/metrics") == 0) malloc_trim(0);
}

}  // namespace fedprobe
