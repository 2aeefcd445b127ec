#include "exporters/tls_web_server.hpp"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <sys/socket.h>

#include <fstream>
#include <sstream>

#include "exporters/web_routes.hpp"

namespace fedprobe {

namespace {

Result<std::string> read_file(const std::string& path, const char* what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::from_errno(std::string(what) + " " + path, errno);
    std::ostringstream s;
    s << in.rdbuf();
    if (s.str().empty()) return Status::error(std::string(what) + " " + path + " is empty");
    return s.str();
}

gnutls_datum_t datum(const std::string& s) {
    return {reinterpret_cast<unsigned char*>(const_cast<char*>(s.data())),
            static_cast<unsigned>(s.size())};
}

// The client certificate as client_auth_type wants it: false with why when it fails.
bool client_ok(MHD_Connection* c, ClientAuth mode, std::string& why) {
    if (mode == ClientAuth::none) return true;
    const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    auto session = info ? static_cast<gnutls_session_t>(info->tls_session) : nullptr;
    if (!session) {
        why = "no TLS session";
        return false;
    }
    unsigned n = 0;
    const bool given = gnutls_certificate_get_peers(session, &n) && n > 0;
    if (!given) {
        if (mode == ClientAuth::verify_if_given) return true;
        why = "a client certificate is required";
        return false;
    }
    if (mode == ClientAuth::require_any) return true;
    unsigned status = 0;
    if (gnutls_certificate_verify_peers2(session, &status) != GNUTLS_E_SUCCESS || status != 0) {
        why = "the client certificate does not verify against client_ca_file";
        return false;
    }
    return true;
}

MHD_Result queue(MHD_Connection* c, WebReply reply) {
    // The body is handed over, not copied (a scrape can be tens of MB); MHD frees it.
    auto* body = new std::string(reply.head ? std::string() : std::move(reply.body));
    MHD_Response* r = MHD_create_response_from_buffer_with_free_callback_cls(
        body->size(), body->data(), [](void* cls) { delete static_cast<std::string*>(cls); }, body);
    if (!r) {
        delete body;
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", (reply.content_type + "; charset=utf-8").c_str());
    MHD_add_response_header(r, "Cache-Control", "no-store");
    for (const auto& [name, value] : reply.headers)
        MHD_add_response_header(r, name.c_str(), value.c_str());
    MHD_Result ok = MHD_queue_response(c, static_cast<unsigned>(reply.status), r);
    MHD_destroy_response(r);
    return ok;
}

MHD_Result on_request(void* cls, MHD_Connection* c, const char* url, const char* method,
                      const char*, const char*, size_t* upload_size, void** con_cls) {
    auto* server_config = static_cast<const WebTlsConfig*>(cls);
    if (!*con_cls) {  // the headers are in: say nothing yet (MHD's protocol for a new request)
        *con_cls = c;
        return MHD_YES;
    }
    if (*upload_size) {  // a body nobody asked for: read and dropped
        *upload_size = 0;
        return MHD_YES;
    }
    std::string why;
    if (!client_ok(c, server_config->client_auth, why)) {
        WebReply reply;
        reply.status = 403;
        reply.body = "Forbidden: " + why + "\n";
        return queue(c, std::move(reply));
    }
    WebRequest req;
    req.method = method;
    req.path = url;
    req.authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    req.accept_encoding = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding");
    if (const MHD_ConnectionInfo* info =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS))
        if (auto a = IpAddress::from_sockaddr(info->client_addr)) req.remote = a->str();
    WebReply reply = answer_web_request(req);
    if (reply.status == 0) {
        reply.status = 404;
        reply.body = "Not Found\n";
    }
    return queue(c, std::move(reply));
}

}  // namespace

Result<WebTlsFiles> load_web_tls_files(const WebTlsConfig& config) {
    WebTlsFiles f;
    auto cert = read_file(config.cert_file, "cert_file");
    if (!cert.ok()) return cert.status();
    auto key = read_file(config.key_file, "key_file");
    if (!key.ok()) return key.status();
    f.cert = *cert;
    f.key = *key;
    gnutls_certificate_credentials_t creds = nullptr;
    gnutls_certificate_allocate_credentials(&creds);
    const gnutls_datum_t c = datum(f.cert), k = datum(f.key);
    const int rc = gnutls_certificate_set_x509_key_mem(creds, &c, &k, GNUTLS_X509_FMT_PEM);
    if (rc < 0) {
        gnutls_certificate_free_credentials(creds);
        return Status::error(
            "cert_file " + config.cert_file + " and key_file " + config.key_file +
            " do not load as a PEM certificate and its key: " + gnutls_strerror(rc));
    }
    if (!config.client_ca_file.empty()) {
        auto ca = read_file(config.client_ca_file, "client_ca_file");
        if (!ca.ok()) {
            gnutls_certificate_free_credentials(creds);
            return ca.status();
        }
        f.client_ca = *ca;
        const gnutls_datum_t d = datum(f.client_ca);
        const int n = gnutls_certificate_set_x509_trust_mem(creds, &d, GNUTLS_X509_FMT_PEM);
        if (n <= 0) {
            gnutls_certificate_free_credentials(creds);
            return Status::error("client_ca_file " + config.client_ca_file +
                                 " holds no PEM certificate" +
                                 (n < 0 ? std::string(": ") + gnutls_strerror(n) : ""));
        }
    }
    gnutls_certificate_free_credentials(creds);
    return f;
}

std::string gnutls_priorities(const WebTlsConfig& config) {
    std::string p = config.tls13_only ? "NORMAL:-VERS-ALL:+VERS-TLS1.3"
                                      : "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";
    if (!config.cipher_suites.empty() && !config.tls13_only) {
        // TLS 1.2's key exchanges and ciphers from Go's suite names. GnuTLS has one cipher list
        // for every version, so TLS 1.3 offers the same ciphers (AES-256-GCM: its
        // TLS_AES_256_GCM_SHA384), a little stricter than Go, which leaves TLS 1.3 alone.
        std::string kx, ciphers;
        auto add = [](std::string& list, const char* item) {
            if (list.find(item) == std::string::npos) list += std::string(":+") + item;
        };
        for (const std::string& s : config.cipher_suites) {
            add(kx, s.find("ECDSA") != std::string::npos ? "ECDHE-ECDSA" : "ECDHE-RSA");
            add(ciphers, s.find("AES_128_GCM") != std::string::npos   ? "AES-128-GCM"
                         : s.find("AES_256_GCM") != std::string::npos ? "AES-256-GCM"
                                                                      : "CHACHA20-POLY1305");
        }
        p += ":-KX-ALL" + kx + ":-CIPHER-ALL" + ciphers;
    }
    return p;
}

namespace {

// MHD's accept policy: a client outside [fedprobe.web] allow is closed as it connects, on the
// listener's thread, before any TLS or HTTP is read from it.
MHD_Result accept_allowed(void* cls, const sockaddr* addr, socklen_t) {
    const auto& allow = *static_cast<const std::vector<Prefix>*>(cls);
    if (allow.empty()) return MHD_YES;
    const auto ip = IpAddress::from_sockaddr(addr);
    if (!ip) return MHD_NO;
    for (const Prefix& p : allow)
        if (p.contains(*ip)) return MHD_YES;
    return MHD_NO;
}

}  // namespace

Result<std::unique_ptr<TlsWebServer>> TlsWebServer::start(const Endpoint& listen,
                                                          const WebTlsConfig& config,
                                                          WebTlsFiles files,
                                                          std::vector<Prefix> allow) {
    std::unique_ptr<TlsWebServer> s(new TlsWebServer);
    s->config_ = config;
    s->files_ = std::move(files);
    s->allow_ = std::move(allow);
    const std::string priorities = gnutls_priorities(config);
    sockaddr_storage ss{};
    listen.address.to_sockaddr(listen.port, ss);
    std::string trust = s->files_.client_ca;
    // Only a trust list makes GnuTLS ask for a client certificate; RequireAnyClientCert has
    // none to verify with, so it is given the server's own to ask with and never verifies.
    if (trust.empty() && config.client_auth == ClientAuth::require_any) trust = s->files_.cert;
    const unsigned flags = MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                           (listen.address.family == AF_INET6 ? MHD_USE_IPv6 : 0);
    MHD_OptionItem options[] = {
        {MHD_OPTION_SOCK_ADDR, 0, &ss},
        {MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, nullptr},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, const_cast<char*>(s->files_.cert.c_str())},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, const_cast<char*>(s->files_.key.c_str())},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, const_cast<char*>(priorities.c_str())},
        // Two threads, as the plain endpoint has, each serving many connections; one that
        // sends nothing for 10 s is closed, and one address holds at most 16 at once.
        {MHD_OPTION_THREAD_POOL_SIZE, 2, nullptr},
        {MHD_OPTION_CONNECTION_TIMEOUT, 10, nullptr},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, 16, nullptr},
        {trust.empty() ? MHD_OPTION_END : MHD_OPTION_HTTPS_MEM_TRUST, 0,
         const_cast<char*>(trust.c_str())},
        {MHD_OPTION_END, 0, nullptr},
    };
    s->daemon_ = MHD_start_daemon(flags, listen.port, &accept_allowed, &s->allow_, &on_request,
                                  &s->config_, MHD_OPTION_ARRAY, options, MHD_OPTION_END);
    if (!s->daemon_)
        return Status::error(
            "cannot serve TLS on " + listen.str() +
            " (the address is taken, or GnuTLS refused the settings: " + priorities + ")");
    return s;
}

TlsWebServer::~TlsWebServer() {
    if (daemon_) MHD_stop_daemon(daemon_);
}

}  // namespace fedprobe
