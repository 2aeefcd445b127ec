// The metrics endpoint's HTTP server, plain or over TLS ([fedprobe.web.tls]): libmicrohttpd,
// serving the routes of web_routes.hpp. Debian's well-kept HTTP server library, with TLS done by
// GnuTLS (prometheus-cpp's civetweb crashes with TLS on Debian 12, and with its two threads and
// a request timeout five half-open connections held every scrape up). It serves every
// connection from a small pool of event-driven threads: a connection that sends nothing for a
// while is closed, and one address holds a bounded number at once, so half-open connections
// cannot hold the scrapes up. Client certificates are checked as exporter-toolkit's
// client_auth_type says.
//
// Threads: start() and the destructor on the caller's thread; requests on the server's own.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/address.hpp"
#include "core/status.hpp"
#include "federation/config.hpp"

struct MHD_Daemon;

namespace fedprobe {

// The files a TLS endpoint serves with, read into memory at start and at each reload, so a
// reload can tell whether they changed and refuse ones that do not load.
struct WebTlsFiles {
    std::string cert, key, client_ca;
    friend bool operator==(const WebTlsFiles&, const WebTlsFiles&) = default;
};
// Reads and checks them (the key matches the certificate; the CA parses); the error names the
// file and why.
Result<WebTlsFiles> load_web_tls_files(const WebTlsConfig& config);
// The GnuTLS priority string for min_version and cipher_suites.
std::string gnutls_priorities(const WebTlsConfig& config);

// How many threads serve, how long a silent connection is kept, and how many one address may
// hold: the metrics endpoint's defaults; `fedprobe blame --serve`, whose answers take seconds
// to gather, keeps connections longer.
struct WebServerLimits {
    unsigned threads = 2;
    unsigned idle_timeout_s = 10;
    // Served events-driven, a held connection costs memory (its 32 KB buffer), never a thread:
    // these bound that memory, and leave room for a scrape storm from one Prometheus host.
    unsigned per_address = 64;
    unsigned connections = 1024;
};

class WebServer {
  public:
    // Listens on `listen`, over TLS with `tls` (and its files), else plain HTTP; SO_REUSEPORT,
    // so that a reload can start the new server before the old one stops.
    static Result<std::unique_ptr<WebServer>> start(const Endpoint& listen, const WebTlsConfig* tls,
                                                    WebTlsFiles files, WebServerLimits limits = {});
    ~WebServer();  // stops accepting, waits for the requests being served
    WebServer(const WebServer&) = delete;
    WebServer& operator=(const WebServer&) = delete;

    bool tls() const { return tls_.has_value(); }
    const WebTlsFiles& files() const { return files_; }
    const std::optional<WebTlsConfig>& tls_config() const { return tls_; }

  private:
    WebServer() = default;
    ::MHD_Daemon* daemon_ = nullptr;
    std::optional<WebTlsConfig> tls_;
    WebTlsFiles files_;
};

}  // namespace fedprobe
