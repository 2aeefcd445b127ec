// The endpoint over TLS ([fedprobe.web.tls]): libmicrohttpd with GnuTLS, serving the same
// routes as the plain endpoint (web_routes.hpp), with client certificates checked as
// exporter-toolkit's client_auth_type says. prometheus-cpp's civetweb crashes with TLS on
// Debian 12, and libmicrohttpd is Debian's well-kept HTTP server library with TLS done by
// GnuTLS; it serves every connection from a small pool of event-driven threads with a
// per-connection timeout, so half-open connections cannot hold the scrapes up.
//
// Threads: start() and the destructor on the daemon's thread; requests on the server's own.
#pragma once

#include <memory>
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

class TlsWebServer {
  public:
    // Listens on `listen`; SO_REUSEPORT, so that a reload can start the new server before the
    // old one stops.
    // `allow`: the clients it accepts connections from (empty: every one); others are closed
    // as they connect.
    static Result<std::unique_ptr<TlsWebServer>> start(const Endpoint& listen,
                                                       const WebTlsConfig& config,
                                                       WebTlsFiles files,
                                                       std::vector<Prefix> allow = {});
    ~TlsWebServer();  // stops accepting, waits for the requests being served
    TlsWebServer(const TlsWebServer&) = delete;
    TlsWebServer& operator=(const TlsWebServer&) = delete;

    const WebTlsFiles& files() const { return files_; }
    const WebTlsConfig& config() const { return config_; }
    const std::vector<Prefix>& allow() const { return allow_; }

  private:
    TlsWebServer() = default;
    ::MHD_Daemon* daemon_ = nullptr;
    WebTlsConfig config_;
    WebTlsFiles files_;
    std::vector<Prefix> allow_;
};

}  // namespace fedprobe
