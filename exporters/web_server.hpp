// The daemon's endpoint (/metrics, the health routes and the status page, web_routes.hpp),
// plain or over TLS ([fedprobe.web.tls]): libmicrohttpd, with GnuTLS and client certificates
// checked as exporter-toolkit's client_auth_type says. It serves every connection from a small
// pool of event-driven threads with a per-connection timeout and a per-address limit, so
// half-open connections and slow readers cannot hold the scrapes up, as civetweb's thread per
// connection could (two stalled clients held it); prometheus-cpp's civetweb also crashes with
// TLS on Debian 12. Clients outside [fedprobe.web] allow are closed as they connect, IPv6 too.
//
// Threads: start() and the destructor on the daemon's thread; requests on the server's own.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

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

class WebServer {
  public:
    // Listens on `listen`, over TLS with `tls` and `files` (nullopt: plain HTTP); SO_REUSEPORT,
    // so that a reload can start the new server before the old one stops.
    // `allow`: the clients it accepts connections from (empty: every one); others are closed
    // as they connect.
    static Result<std::unique_ptr<WebServer>> start(const Endpoint& listen,
                                                    std::optional<WebTlsConfig> tls,
                                                    WebTlsFiles files,
                                                    std::vector<Prefix> allow = {});
    ~WebServer();  // stops accepting, closes its connections
    WebServer(const WebServer&) = delete;
    WebServer& operator=(const WebServer&) = delete;

    struct Context;  // web_server.cpp's

    const WebTlsFiles& files() const { return files_; }
    const std::optional<WebTlsConfig>& tls() const;
    const std::vector<Prefix>& allow() const { return allow_; }

  private:
    WebServer() = default;
    ::MHD_Daemon* daemon_ = nullptr;
    std::unique_ptr<Context> context_;  // what the server's threads read: TLS and the body gate
    WebTlsFiles files_;
    std::vector<Prefix> allow_;
};

}  // namespace fedprobe
