#include "probes/app/app_probe.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "probes/connect_outcome.hpp"
#include "probes/tls_certificates.hpp"

namespace fedprobe {

namespace {

std::uint16_t local_port_of(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
    auto ep = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss));
    return ep ? ep->port : 0;
}

bool is_reset(int err) {
    return err == ECONNRESET || err == EPIPE;
}

std::string openssl_error(const char* what) {
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (!e) return what;
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return std::string(what) + ": " + buf;
}

}  // namespace

AppProbe::AppProbe(EventLoop& loop, MakeDialogue make)
    : loop_(loop),
      wire_(loop),
      make_(std::move(make)),
      resets_(ResetWatcher::of(loop)),
      attempts_(wire_, [this](const ProbeRequest& r, Done d) { begin(r, std::move(d)); }) {}

AppProbe::~AppProbe() {
    // Each session's SSL holds its own reference to its context: these go with the last one.
    for (auto& [file, ctx] : contexts_)
        SSL_CTX_free(ctx);
}

void AppProbe::start(const ProbeRequest& request, Done done) {
    attempts_.admit(request, std::move(done));
}

void AppProbe::begin(const ProbeRequest& req, Done done) {
    auto opened = open_probe_socket(req.destination.family, SOCK_STREAM, IPPROTO_TCP, req.send());
    if (!opened.ok()) {
        const int err = errno;
        return attempts_.open_failed(err, opened.status().message(), req, std::move(done));
    }
    const int fd = *opened;
    Session s;
    s.dialogue = make_(req);
    s.remote = req.destination;
    s.remote_port = req.port;
    sockaddr_storage ss;
    socklen_t len = req.destination.to_sockaddr(req.port, ss);
    SocketAttempts::Attempt attempt{loop_.now(),     0,  req.destination,
                                    std::move(done), {}, req.timeout};
    const bool failed_at_once =
        connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS;
    const int err = failed_at_once ? errno : 0;
    // Bound to a port now: watch its SYN-ACK's TTL before any drain could pass it by.
    s.local_port = local_port_of(fd);
    if (!failed_at_once && s.local_port)
        s.watched = resets_->watch(s.remote, s.remote_port, s.local_port);
    sessions_.emplace(fd, std::move(s));
    if (failed_at_once)
        return attempts_.decide_later(fd, std::move(attempt),
                                      [this, err](int f) { on_connect(f, err); });
    attempts_.watch(
        fd, std::move(attempt), EPOLLOUT | EPOLLERR, req.timeout,
        [this](int f, std::uint32_t ev) { on_event(f, ev); }, [this](int f) { on_timeout(f); });
}

void AppProbe::on_event(int fd, std::uint32_t events) {
    auto it = sessions_.find(fd);
    if (it == sessions_.end()) return;
    Session& s = it->second;
    if (!s.connected) return on_connect(fd, 0);
    if (s.tls == Tls::handshake) return continue_handshake(fd, s);
    if ((events & EPOLLOUT) && !flush(fd, s)) return;
    if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP))) return;
    if (s.tls == Tls::up)
        read_tls(fd, s);
    else
        read_plain(fd, s);
}

void AppProbe::read_plain(int fd, Session& s) {
    char buf[16 * 1024];
    // A few reads per wakeup, so one chatty peer cannot hold the loop; the dialogue bounds what
    // it keeps.
    for (int i = 0; i < 4; ++i) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            if (!deliver(fd, s, buf, static_cast<std::size_t>(n))) return;
            // A short read emptied the socket: the next recv would only say EAGAIN.
            if (static_cast<std::size_t>(n) < sizeof buf) return;
            continue;
        }
        if (n == 0) return finish(fd, s.dialogue->closed());
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        if (is_reset(errno)) return on_reset(fd, s);
        return finish(fd, AppVerdict{Outcome::error, std::string("recv: ") + std::strerror(errno)});
    }
}

void AppProbe::read_tls(int fd, Session& s) {
    char buf[16 * 1024];
    // Until OpenSSL wants more from the socket: what it holds decrypted would raise no epoll
    // event. The dialogue's bound ends a peer that streams.
    while (true) {
        ERR_clear_error();
        int n = SSL_read(s.ssl.get(), buf, sizeof buf);
        if (n > 0) {
            if (!deliver(fd, s, buf, static_cast<std::size_t>(n))) return;
            continue;
        }
        const int err = SSL_get_error(s.ssl.get(), n);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return;
        if (err == SSL_ERROR_ZERO_RETURN) return finish(fd, s.dialogue->closed());
        if (err == SSL_ERROR_SYSCALL && (errno == 0 || is_reset(errno))) {
            if (errno == 0) return finish(fd, s.dialogue->closed());  // EOF without close_notify
            return on_reset(fd, s);
        }
        return finish(fd, AppVerdict{Outcome::tls_error, openssl_error("TLS read failed")});
    }
}

bool AppProbe::deliver(int fd, Session& s, const char* data, std::size_t n) {
    // Servers that write a message in two pieces (DCMTK) would otherwise wait 40 ms for our
    // delayed ACK under Nagle: the exchange's time would be the stacks', not the network's.
    int on = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);
    s.received += n;
    apply(fd, s, s.dialogue->received({data, n}));
    return sessions_.count(fd) != 0;
}

void AppProbe::on_connect(int fd, int connect_error) {
    auto* a = attempts_.find(fd);
    auto it = sessions_.find(fd);
    if (!a || it == sessions_.end()) return;
    Session& s = it->second;
    ProbeResult r;
    r.duration = loop_.now() - a->started;
    judge_connect(fd, connect_error, a->destination, r);
    if (r.outcome != Outcome::ok) return finish(fd, std::move(r));
    s.connected = true;
    if (const TlsSettings* t = s.dialogue->tls(); t && t->from_start) return start_tls(fd, s);
    s.out = s.dialogue->opening();
    if (!flush(fd, s)) return;
    watch_for(fd, s);
}

void AppProbe::watch_for(int fd, Session& s) {
    if (Status st = loop_.modify_fd(fd, EPOLLIN | (s.out.empty() ? 0u : EPOLLOUT)); !st.ok())
        finish(fd, AppVerdict{Outcome::error, st.message()});
}

bool AppProbe::flush(int fd, Session& s) {
    while (!s.out.empty()) {
        if (s.tls == Tls::up) {
            ERR_clear_error();
            int n = SSL_write(s.ssl.get(), s.out.data(), static_cast<int>(s.out.size()));
            if (n > 0) {
                s.sent += static_cast<std::size_t>(n);
                s.out.erase(0, static_cast<std::size_t>(n));
                continue;
            }
            const int err = SSL_get_error(s.ssl.get(), n);
            if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) break;
            if (err == SSL_ERROR_SYSCALL && is_reset(errno)) {
                on_reset(fd, s);
                return false;
            }
            finish(fd, AppVerdict{Outcome::tls_error, openssl_error("TLS write failed")});
            return false;
        }
        ssize_t n = send(fd, s.out.data(), s.out.size(), MSG_NOSIGNAL);
        if (n > 0) {
            s.sent += static_cast<std::size_t>(n);
            s.out.erase(0, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
        if (n < 0 && is_reset(errno)) {
            on_reset(fd, s);
            return false;
        }
        finish(fd, AppVerdict{Outcome::error, std::string("send: ") + std::strerror(errno)});
        return false;
    }
    return true;
}

void AppProbe::apply(int fd, Session& s, AppStep step) {
    if (step.verdict) {
        // A parting message (LDAP's unbind), best effort: the verdict is already reached.
        if (!step.send.empty()) {
            if (s.tls == Tls::up)
                (void)SSL_write(s.ssl.get(), step.send.data(), static_cast<int>(step.send.size()));
            else
                (void)send(fd, step.send.data(), step.send.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            ERR_clear_error();
        }
        return finish(fd, *step.verdict);
    }
    const bool was_empty = s.out.empty();
    s.out += step.send;
    if (!flush(fd, s)) return;
    if (step.start_tls) {
        if (!s.out.empty())  // the STARTTLS command itself is still queued: never seen
            return finish(fd, AppVerdict{Outcome::error, "could not send the STARTTLS request"});
        return start_tls(fd, s);
    }
    if (was_empty != s.out.empty()) watch_for(fd, s);
}

void AppProbe::start_tls(int fd, Session& s) {
    const TlsSettings* t = s.dialogue->tls();
    if (!t)
        return finish(fd, AppVerdict{Outcome::error, "the check asked for TLS without settings"});
    std::string error;
    X509_STORE* store = ca_stores_.get(t->ca_file, loop_.now(), error);
    if (!store) return finish(fd, AppVerdict{Outcome::error, error});
    SSL_CTX*& ctx = contexts_[t->ca_file];
    if (!ctx) {
        ctx = SSL_CTX_new(TLS_client_method());
        if (!ctx) return finish(fd, AppVerdict{Outcome::error, openssl_error("SSL_CTX_new")});
        // Verification is read after the handshake (as http does), so a failing certificate
        // still shows its dates; nothing is sent over a connection that failed it.
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    }
    SSL_CTX_set1_cert_store(ctx, store);  // the bundle reloaded when its file changed
    s.ssl.reset(SSL_new(ctx));
    if (!s.ssl || SSL_set_fd(s.ssl.get(), fd) != 1)
        return finish(fd, AppVerdict{Outcome::error, openssl_error("SSL_new")});
    const std::string name = t->server_name.empty() ? s.remote.str() : t->server_name;
    X509_VERIFY_PARAM* param = SSL_get0_param(s.ssl.get());
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (IpAddress::parse(name)) {
        X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
    } else {
        X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
        SSL_set_tlsext_host_name(s.ssl.get(), name.c_str());
    }
    s.tls = Tls::handshake;
    continue_handshake(fd, s);
}

void AppProbe::continue_handshake(int fd, Session& s) {
    ERR_clear_error();
    const int rc = SSL_connect(s.ssl.get());
    if (rc != 1) {
        const int err = SSL_get_error(s.ssl.get(), rc);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
            if (Status st = loop_.modify_fd(fd, err == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
                !st.ok())
                finish(fd, AppVerdict{Outcome::error, st.message()});
            return;
        }
        if (err == SSL_ERROR_SYSCALL && is_reset(errno)) return on_reset(fd, s);
        if (err == SSL_ERROR_SYSCALL && errno == 0)
            return finish(fd, AppVerdict{Outcome::tls_error,
                                         "the server closed the connection during the TLS "
                                         "handshake"});
        return finish(fd, AppVerdict{Outcome::tls_error, openssl_error("TLS handshake failed")});
    }
    const TlsSettings* t = s.dialogue->tls();
    TlsFacts& f = s.tls_facts;
    f.used = true;
    f.version = SSL_get_version(s.ssl.get());
    auto dates = certificate_dates(SSL_get_peer_cert_chain(s.ssl.get()));
    f.leaf_not_after = dates.leaf_not_after;
    f.chain_not_after = dates.earliest_not_after;
    const long result = SSL_get_verify_result(s.ssl.get());
    f.verified = result == X509_V_OK;
    if (result != X509_V_OK && t->verify) {
        std::string detail =
            std::string("certificate not trusted: ") + X509_verify_cert_error_string(result);
        if (result == X509_V_ERR_HOSTNAME_MISMATCH || result == X509_V_ERR_IP_ADDRESS_MISMATCH)
            detail += " (it does not name " +
                      (t->server_name.empty() ? s.remote.str() + "; give its name in server_name"
                                              : t->server_name) +
                      ")";
        return finish(fd, AppVerdict{Outcome::tls_error, detail});
    }
    s.tls = Tls::up;
    // What the dialogue sends now; with TLS from the start, its opening goes first. A check with
    // neither (tls:) has its verdict from the handshake alone.
    AppStep step = s.dialogue->tls_ready();
    if (t->from_start) step.send = s.dialogue->opening() + step.send;
    apply(fd, s, std::move(step));
    if (!sessions_.count(fd)) return;
    watch_for(fd, s);
    if (sessions_.count(fd) && SSL_has_pending(s.ssl.get())) read_tls(fd, s);
}

void AppProbe::on_reset(int fd, Session& s) {
    AppFacts facts;
    if (!s.watched)
        return finish(fd,
                      AppVerdict{Outcome::mismatch,
                                 "reset after the handshake; whether by the server or a device "
                                 "on the way is unknown (no raw socket to read the reset's TTL: "
                                 "the daemon lacks CAP_NET_RAW)"});
    auto ttl = resets_->ttls(s.remote, s.remote_port, s.local_port);
    if (ttl.reset < 0 || ttl.syn_ack < 0)
        return finish(
            fd, AppVerdict{Outcome::mismatch, "reset after the handshake; its TTL was not seen"});
    const int server_hops = hops_from_ttl(ttl.syn_ack);
    const int reset_hops = hops_from_ttl(ttl.reset);
    if (ttl.reset == ttl.syn_ack || reset_hops >= server_hops)
        return finish(
            fd, AppVerdict{Outcome::mismatch,
                           "the server reset the connection after " + std::to_string(s.sent) +
                               " bytes (TTL " + std::to_string(ttl.reset) + ", as its SYN-ACK's)"});
    facts.reset_hops = reset_hops;
    finish(
        fd,
        AppVerdict{Outcome::app_blocked,
                   "reset by a device " + std::to_string(reset_hops) +
                       (reset_hops == 1 ? " hop" : " hops") + " away, nearer than the server (" +
                       std::to_string(server_hops) + "): the handshake passed, the data did not"},
        facts);
}

void AppProbe::on_timeout(int fd) {
    auto* a = attempts_.find(fd);
    auto it = sessions_.find(fd);
    if (!a || it == sessions_.end()) return;
    Session& s = it->second;
    if (!s.connected) {
        if (connected_in_time(fd, loop_.now() - (a->started + a->timeout)))
            return on_connect(fd, 0);
        ProbeResult r;
        r.duration = loop_.now() - a->started;
        judge_connect_timeout(fd, r);
        return finish(fd, std::move(r));
    }
    if (auto v = s.dialogue->timed_out()) return finish(fd, *v);
    if (s.tls == Tls::handshake) s.sent = std::max<std::size_t>(s.sent, 1);
    tcp_info info{};
    socklen_t len = sizeof info;
    const bool have_info = getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0;
    if (have_info && s.sent > 0 && info.tcpi_unacked > 0) {
        const auto count = [](unsigned n, const char* what) {
            return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
        };
        return finish(fd, AppVerdict{Outcome::app_blocked,
                                     "the server never acknowledged the data sent after the "
                                     "handshake (" +
                                         count(info.tcpi_unacked, "segment") + " outstanding, " +
                                         count(info.tcpi_retransmits, "retransmission") +
                                         "): dropped on the way"});
    }
    std::string detail;
    if (s.tls == Tls::handshake)
        return finish(fd, AppVerdict{Outcome::tls_error,
                                     "the server acknowledged the TLS ClientHello and did not "
                                     "complete the handshake before the timeout"});
    if (s.sent == 0 && s.received == 0)
        detail = "connected, and the server said nothing before the timeout";
    else if (s.received == 0)
        detail = "no answer: the server acknowledged the data and said nothing";
    else
        detail = "the answer stopped after " + std::to_string(s.received) + " bytes";
    finish(fd, AppVerdict{Outcome::mismatch, detail});
}

void AppProbe::finish(int fd, const AppVerdict& v, AppFacts facts) {
    auto* a = attempts_.find(fd);
    if (!a) return;
    ProbeResult r;
    r.duration = loop_.now() - a->started;
    r.outcome = v.outcome;
    r.detail = v.detail;
    if (v.outcome == Outcome::mismatch) r.reporter = a->destination;
    finish(fd, std::move(r), facts);
}

void AppProbe::finish(int fd, ProbeResult r, AppFacts facts) {
    auto it = sessions_.find(fd);
    if (it == sessions_.end()) return;
    Session s = std::move(it->second);
    sessions_.erase(it);
    if (s.watched) resets_->forget(s.remote, s.remote_port, s.local_port);
    if (s.tls == Tls::up) {
        ERR_clear_error();
        (void)SSL_shutdown(s.ssl.get());  // a close_notify, once, without waiting for the server's
    }
    facts.tls = s.tls_facts;
    s.dialogue->fill(r, facts);
    attempts_.finish(fd, std::move(r));
}

}  // namespace fedprobe
