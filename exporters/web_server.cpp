#include "exporters/web_server.hpp"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <malloc.h>
#include <microhttpd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include <fstream>
#include <sstream>

#include "exporters/body_gate.hpp"
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

// A reply's body, read out by MHD in blocks. It holds its slot of the gate until MHD frees
// it, and a client that has not read it all by the deadline is cut off: a slow reader must not
// hold a slot for good (Prometheus gave up on the scrape long before).
constexpr auto kBodyDeadline = std::chrono::seconds(30);
struct Body {
    std::string data;
    std::chrono::steady_clock::time_point deadline;
    BodyGate* gate = nullptr;  // set: it holds a slot of the gate
};

// A request across MHD's calls of the handler (its con_cls).
struct Request {
    MHD_Connection* connection = nullptr;
    bool large = false;   // /metrics or the status page: through the gate
    bool scrape = false;  // /metrics: the heap is trimmed after it
    enum class Gate { outside, parked, admitted, handed } gate = Gate::outside;
};

void resume_admitted(void* waiter) {
    auto* r = static_cast<Request*>(waiter);
    r->gate = Request::Gate::admitted;  // before the resume: then its thread sees it
    MHD_resume_connection(r->connection);
}

ssize_t read_body(void* cls, std::uint64_t pos, char* buf, std::size_t max) {
    auto* b = static_cast<Body*>(cls);
    if (std::chrono::steady_clock::now() > b->deadline) return MHD_CONTENT_READER_END_WITH_ERROR;
    const std::size_t n = std::min<std::size_t>(max, b->data.size() - pos);
    std::memcpy(buf, b->data.data() + pos, n);
    return static_cast<ssize_t>(n);
}

void free_body(void* cls) {
    auto* b = static_cast<Body*>(cls);
    BodyGate* gate = b->gate;
    const std::size_t size = b->data.size();
    delete b;
    if (gate) gate->release(size, resume_admitted);
}

MHD_Result queue(MHD_Connection* c, WebReply reply, BodyGate* gate = nullptr) {
    // The body is handed over, not copied (a scrape can be tens of MB); MHD frees it.
    auto* body = new Body{reply.head ? std::string() : std::move(reply.body),
                          std::chrono::steady_clock::now() + kBodyDeadline, gate};
    MHD_Response* r = MHD_create_response_from_callback(body->data.size(), 32 * 1024, &read_body,
                                                        body, &free_body);
    if (!r) {
        free_body(body);
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

}  // namespace

// What the handler is given: the server's TLS settings and its gate.
struct WebServer::Context {
    std::optional<WebTlsConfig> tls;
    BodyGate gate;
};

namespace {

MHD_Result on_request(void* cls, MHD_Connection* c, const char* url, const char* method,
                      const char*, const char*, size_t* upload_size, void** con_cls) {
    // The server's threads yield to the probing thread: building a 22 MB body on both of them
    // starved its stop past a second in CI (nice 5; failing to set it changes nothing else).
    thread_local const bool niced = setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 5) == 0;
    (void)niced;
    auto& context = *static_cast<WebServer::Context*>(cls);
    if (!*con_cls) {  // the headers are in: say nothing yet (MHD's protocol for a new request)
        auto* r = new Request;
        r->connection = c;
        r->scrape = std::strcmp(url, "/metrics") == 0;
        r->large = r->scrape || std::strcmp(url, "/") == 0;
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_size) {  // a body nobody asked for: read and dropped
        *upload_size = 0;
        return MHD_YES;
    }
    auto* request = static_cast<Request*>(*con_cls);
    std::string why;
    if (context.tls && !client_ok(c, context.tls->client_auth, why)) {
        WebReply reply;
        reply.status = 403;
        reply.body = "Forbidden: " + why + "\n";
        return queue(c, std::move(reply));
    }
    if (request->large && request->gate != Request::Gate::admitted) {
        // Parked until a body is freed; MHD calls again when it is resumed.
        switch (context.gate.enter(request, [&] {
            request->gate = Request::Gate::parked;
            MHD_suspend_connection(c);
        })) {
            case BodyGate::Entry::refused:
                return MHD_NO;  // the server is stopping
            case BodyGate::Entry::parked:
                return MHD_YES;
            case BodyGate::Entry::admitted:
                request->gate = Request::Gate::admitted;
                break;
        }
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
    if (request->gate != Request::Gate::admitted) return queue(c, std::move(reply));
    context.gate.built(reply.head ? 0 : reply.body.size());
    request->gate = Request::Gate::handed;  // the body holds the slot from here, or frees it
    return queue(c, std::move(reply), &context.gate);
}

// A request is over. One admitted whose body was never made gives its slot back; one parked
// (the server stopping) leaves the queue. A scrape's body (13 MB at 10,000 targets) was freed
// on this thread; without a trim, glibc keeps the top of its arena, and RSS grows by megabytes
// a scrape.
void on_completed(void* cls, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode) {
    auto* request = static_cast<Request*>(*con_cls);
    if (!request) return;
    auto& gate = static_cast<WebServer::Context*>(cls)->gate;
    if (request->gate == Request::Gate::admitted) gate.release(std::nullopt, resume_admitted);
    if (request->gate == Request::Gate::parked) gate.forget(request);
    const bool scrape = request->scrape;
    delete request;
    *con_cls = nullptr;
    if (scrape) malloc_trim(0);
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
    auto ip = IpAddress::from_sockaddr(addr);
    if (!ip) return MHD_NO;
    // A dual-stack listener ([::]) sees IPv4 clients as ::ffff:a.b.c.d: judged as a.b.c.d.
    static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (ip->family == AF_INET6 && std::memcmp(ip->bytes.data(), kMapped, 12) == 0) {
        IpAddress v4;
        v4.family = AF_INET;
        std::memcpy(v4.bytes.data(), ip->bytes.data() + 12, 4);
        ip = v4;
    }
    for (const Prefix& p : allow)
        if (p.contains(*ip)) return MHD_YES;
    return MHD_NO;
}

}  // namespace

Result<std::unique_ptr<WebServer>> WebServer::start(const Endpoint& listen,
                                                    std::optional<WebTlsConfig> tls,
                                                    WebTlsFiles files, std::vector<Prefix> allow) {
    std::unique_ptr<WebServer> s(new WebServer);
    s->context_ = std::make_unique<Context>();
    s->context_->tls = std::move(tls);
    const std::optional<WebTlsConfig>& tls_now = s->context_->tls;
    s->files_ = std::move(files);
    s->allow_ = std::move(allow);
    const std::string priorities = tls_now ? gnutls_priorities(*tls_now) : "";
    sockaddr_storage ss{};
    listen.address.to_sockaddr(listen.port, ss);
    std::string trust = s->files_.client_ca;
    // Only a trust list makes GnuTLS ask for a client certificate; RequireAnyClientCert has
    // none to verify with, so it is given the server's own to ask with and never verifies.
    if (tls_now && trust.empty() && tls_now->client_auth == ClientAuth::require_any)
        trust = s->files_.cert;
    const unsigned flags = (tls_now ? MHD_USE_TLS : 0) | MHD_USE_INTERNAL_POLLING_THREAD |
                           MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                           (listen.address.family == AF_INET6 ? MHD_USE_IPv6 : 0);
    std::vector<MHD_OptionItem> options = {
        {MHD_OPTION_SOCK_ADDR, 0, &ss},
        {MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, nullptr},
        // Two threads, each serving many connections; one that sends nothing for 10 s is
        // closed, and one address holds at most 128 at once: appliance_faults' 50 scrapers
        // back to back, from one address, hold up to twice that many while the server has not
        // yet seen their closes (64 cut 90 of 1,968 scrapes under ASan); a flood from one
        // address still cannot take every connection. Scrapes beyond what the body gate lets
        // through wait, parked, without a timeout.
        {MHD_OPTION_THREAD_POOL_SIZE, 2, nullptr},
        {MHD_OPTION_CONNECTION_TIMEOUT, 10, nullptr},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, 128, nullptr},
        {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&on_completed), s->context_.get()},
    };
    if (tls_now) {
        options.push_back(
            {MHD_OPTION_HTTPS_MEM_CERT, 0, const_cast<char*>(s->files_.cert.c_str())});
        options.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0, const_cast<char*>(s->files_.key.c_str())});
        options.push_back({MHD_OPTION_HTTPS_PRIORITIES, 0, const_cast<char*>(priorities.c_str())});
        if (!trust.empty())
            options.push_back({MHD_OPTION_HTTPS_MEM_TRUST, 0, const_cast<char*>(trust.c_str())});
    }
    options.push_back({MHD_OPTION_END, 0, nullptr});
    s->daemon_ =
        MHD_start_daemon(flags, listen.port, &accept_allowed, &s->allow_, &on_request,
                         s->context_.get(), MHD_OPTION_ARRAY, options.data(), MHD_OPTION_END);
    if (!s->daemon_) {
        if (!tls_now)
            return Status::error("cannot listen on " + listen.str() + " (the address is taken?)");
        return Status::error(
            "cannot serve TLS on " + listen.str() +
            " (the address is taken, or GnuTLS refused the settings: " + priorities + ")");
    }
    return s;
}

const std::optional<WebTlsConfig>& WebServer::tls() const {
    return context_->tls;
}

WebServer::~WebServer() {
    if (!daemon_) return;
    // MHD must not stop with a connection parked: each is resumed, and refused when it comes
    // back to the handler, or closed by the stop.
    context_->gate.stop(
        [](void* w) { MHD_resume_connection(static_cast<Request*>(w)->connection); });
    MHD_stop_daemon(daemon_);
}

}  // namespace fedprobe
