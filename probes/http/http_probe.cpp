#include "probes/http/http_probe.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cstring>

#include "probes/http/http_match.hpp"
#include "probes/http/http_timing.hpp"
#include "probes/tls_certificates.hpp"

namespace fedprobe {

static_assert(HttpKind::kSockets.cap == HttpProbe::kDefaultMaxInFlight,
              "the descriptor plan counts what the probe holds at most");

namespace {

// Enough for any body a pattern is meant to find; a probe is not a download.
constexpr std::size_t kMaxBody = 1 << 20;

}  // namespace

struct HttpProbe::Transfer {
    HttpProbe* self = nullptr;
    CURL* easy = nullptr;
    curl_slist* connect_to = nullptr;
    TimePoint started;
    IpAddress destination;
    SendOptions send;
    Done done;
    std::string host;  // the URL's host, for the certificate check
    bool tls = false;
    bool verify = true;
    X509_STORE* store = nullptr;  // a reference of our own: a reload may drop the cache's
    std::vector<int> expected_status;
    const regex_t* body_regex = nullptr;
    std::string body;
    char curl_error[CURL_ERROR_SIZE] = {};
    std::string local_error;   // the socket could not be opened
    std::string abort_detail;  // the certificate failed: the request was never sent
    std::optional<QueuedError> icmp;
    HttpResult http;

    ~Transfer() {
        curl_slist_free_all(connect_to);
        X509_STORE_free(store);
    }
};

std::unique_ptr<Probe> HttpKind::make_probe(EventLoop& loop) {
    return std::make_unique<HttpProbe>(loop);
}

HttpProbe::HttpProbe(EventLoop& loop, std::size_t max_in_flight)
    : loop_(loop), max_in_flight_(std::max<std::size_t>(1, max_in_flight)) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    multi_ = curl_multi_init();
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &HttpProbe::on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &HttpProbe::on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    // Woken (deferred, by the loop's budget) when any probe gives a descriptor back.
    budget_waiter_ = loop_.fd_budget().add_waiter([this] { start_queued(); });
}

HttpProbe::~HttpProbe() {
    loop_.fd_budget().remove_waiter(budget_waiter_);
    if (timer_) loop_.cancel_timer(timer_);
    if (queue_timer_) loop_.cancel_timer(queue_timer_);
    for (auto& [easy, t] : transfers_) {
        curl_multi_remove_handle(multi_, easy);  // closes its connection: no completion runs
        curl_easy_cleanup(easy);
        loop_.fd_budget().give();
    }
    transfers_.clear();
    curl_multi_cleanup(multi_);
    for (int fd : watched_)
        loop_.remove_fd(fd);
    curl_global_cleanup();
}

const regex_t* HttpProbe::pattern(const std::string& re) {
    if (re.empty()) return nullptr;
    auto it = patterns_.find(re);
    if (it != patterns_.end()) return it->second.get();
    std::unique_ptr<regex_t, void (*)(regex_t*)> compiled(new regex_t, [](regex_t* r) {
        regfree(r);
        delete r;
    });
    // REG_NEWLINE: ^ and $ match at each line of the body, as people reading HTML expect.
    if (regcomp(compiled.get(), re.c_str(), REG_EXTENDED | REG_NOSUB | REG_NEWLINE) != 0) {
        delete compiled.release();  // never compiled: nothing to regfree
        return nullptr;
    }
    return patterns_.emplace(re, std::move(compiled)).first->second.get();
}

void HttpProbe::start(const ProbeRequest& req, Done done) {
    if (transfers_.size() >= max_in_flight_ || !queue_.empty() || !loop_.fd_budget().try_take()) {
        queue_.push_back(Queued{req, std::move(done), loop_.now()});
        arm_queue_timer(queue_.back().queued + req.timeout);
        return;
    }
    if (!launch(req, std::move(done))) loop_.fd_budget().give();
}

void HttpProbe::fail_later(Done done, std::string detail, Duration duration, bool overloaded) {
    loop_.defer([done = std::move(done), detail = std::move(detail), duration, overloaded] {
        ProbeResult r;
        r.outcome = Outcome::error;
        r.duration = duration;
        r.detail = detail;
        if (overloaded) r.overload = Overload::queued;
        r.kind = HttpResult{};
        done(std::move(r));
    });
}

void HttpProbe::arm_queue_timer(TimePoint at) {
    if (queue_timer_ && queue_timer_at_ <= at) return;
    if (queue_timer_) loop_.cancel_timer(queue_timer_);
    queue_timer_at_ = at;
    queue_timer_ = loop_.add_timer(at, [this] {
        queue_timer_ = 0;
        start_queued();
    });
}

void HttpProbe::rearm_queue_timer() {
    if (queue_timer_) loop_.cancel_timer(queue_timer_);
    queue_timer_ = 0;
    for (const Queued& q : queue_)
        arm_queue_timer(q.queued + q.request.timeout);
}

void HttpProbe::start_queued() {
    // Whatever has waited past its timeout fails first, wherever it stands in the queue.
    for (auto it = queue_.begin(); it != queue_.end();) {
        if (loop_.now() - it->queued < it->request.timeout) {
            ++it;
            continue;
        }
        ++overloaded_;
        fail_later(std::move(it->done),
                   "not started: the prober was overloaded (too many probes at once for the "
                   "https cap or the descriptor limit)",
                   it->request.timeout, true);
        it = queue_.erase(it);
    }
    // Then, in order, what the cap and the descriptor budget allow; the budget wakes us when a
    // descriptor comes back.
    while (!queue_.empty() && transfers_.size() < max_in_flight_ && loop_.fd_budget().try_take()) {
        Queued q = std::move(queue_.front());
        queue_.pop_front();
        if (!launch(q.request, std::move(q.done))) loop_.fd_budget().give();
    }
    rearm_queue_timer();
}

bool HttpProbe::launch(const ProbeRequest& request, Done done) {
    const HttpParams& req = request.as<HttpKind>();
    auto t = std::make_unique<Transfer>();
    t->self = this;
    t->started = loop_.now();
    t->destination = request.destination;
    t->send = request.send();
    t->done = std::move(done);
    t->verify = req.http.verify;
    t->expected_status = req.http.status;
    t->body_regex = pattern(req.http.body_regex);

    t->host = req.url_parts.host;
    t->tls = req.url_parts.tls;
    std::string error;
    if (t->host.empty()) error = "cannot parse the URL " + req.url;
    if (error.empty() && !req.http.body_regex.empty() && !t->body_regex)
        error = "body_regex is not a regular expression";
    if (error.empty() && t->tls) {
        t->store = ca_stores_.get(req.ca_file, t->started, error);
        if (t->store) X509_STORE_up_ref(t->store);
    }
    if (error.empty()) {
        std::string pin;
        if (!req.http.system_resolver) {
            // Any host, any port: connect to the target's address at the URL's port.
            pin = "::" + request.destination.host_str() + ":";
            t->connect_to = curl_slist_append(nullptr, pin.c_str());
        }
        t->easy = curl_easy_init();
        if (!t->easy) error = "curl_easy_init failed";
    }
    if (!error.empty()) {
        fail_later(std::move(t->done), error);
        return false;
    }
    CURL* e = t->easy;
    Transfer* raw = t.get();
    long timeout_ms = static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(request.timeout).count());
    curl_easy_setopt(e, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    // Every probe measures a whole connection: TCP and TLS handshakes included.
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    if (raw->connect_to) curl_easy_setopt(e, CURLOPT_CONNECT_TO, raw->connect_to);
    curl_easy_setopt(e, CURLOPT_USERAGENT, req.user_agent.c_str());
    if (req.http.method == "HEAD") curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    if (!req.http.client_cert.empty()) {
        curl_easy_setopt(e, CURLOPT_SSLCERT, req.http.client_cert.c_str());
        curl_easy_setopt(
            e, CURLOPT_SSLKEY,
            (req.http.client_key.empty() ? req.http.client_cert : req.http.client_key).c_str());
    }
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, raw->curl_error);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &HttpProbe::on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, raw);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &HttpProbe::open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, raw);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, &HttpProbe::close_socket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, this);
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, &HttpProbe::on_connected);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, raw);
    // libcurl's own checks are off: on_ssl_ctx hands OpenSSL the store and the name, and
    // on_connected reads the verdict, so a failing certificate still shows its dates.
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, &HttpProbe::on_ssl_ctx);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, raw);
    transfers_.emplace(e, std::move(t));
    if (CURLMcode rc = curl_multi_add_handle(multi_, e); rc != CURLM_OK) {
        Done d = std::move(raw->done);
        curl_easy_cleanup(e);
        transfers_.erase(e);
        fail_later(std::move(d), std::string("curl: ") + curl_multi_strerror(rc));
        return false;
    }
    return true;
}

curl_socket_t HttpProbe::open_socket(void* data, curlsocktype, curl_sockaddr* address) {
    auto* t = static_cast<Transfer*>(data);
    auto opened = open_probe_socket(address->family, address->socktype, address->protocol, t->send);
    if (!opened.ok()) {
        t->local_error = opened.status().message();
        return CURL_SOCKET_BAD;
    }
    int fd = *opened;
    t->self->sockets_[fd] = t;
    return fd;
}

int HttpProbe::close_socket(void* data, curl_socket_t fd) {
    auto* self = static_cast<HttpProbe*>(data);
    if (self->watched_.erase(fd)) self->loop_.remove_fd(fd);  // should libcurl not have said so
    if (auto it = self->sockets_.find(fd); it != self->sockets_.end()) {
        // The kernel keeps the ICMP error that made a connect fail on the socket's queue.
        if (auto q = read_error_queue(fd); q && q->from_icmp() && !it->second->icmp)
            it->second->icmp = q;
        self->sockets_.erase(it);
    }
    return close(fd);
}

CURLcode HttpProbe::on_ssl_ctx(CURL*, void* ssl_ctx, void* data) {
    auto* t = static_cast<Transfer*>(data);
    auto* ctx = static_cast<SSL_CTX*>(ssl_ctx);
    SSL_CTX_set1_cert_store(ctx, t->store);
    X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    int ok = IpAddress::parse(t->host) ? X509_VERIFY_PARAM_set1_ip_asc(param, t->host.c_str())
                                       : X509_VERIFY_PARAM_set1_host(param, t->host.c_str(), 0);
    return ok == 1 ? CURLE_OK : CURLE_SSL_CONNECT_ERROR;
}

int HttpProbe::on_connected(void* data, char*, char*, int, int) {
    auto* t = static_cast<Transfer*>(data);
    if (!t->tls) return CURL_PREREQFUNC_OK;
    curl_tlssessioninfo* info = nullptr;
    if (curl_easy_getinfo(t->easy, CURLINFO_TLS_SSL_PTR, &info) != CURLE_OK || !info ||
        info->backend != CURLSSLBACKEND_OPENSSL || !info->internals) {
        t->abort_detail = "no TLS session to check the certificate of";
        return CURL_PREREQFUNC_ABORT;
    }
    auto* ssl = static_cast<SSL*>(info->internals);
    HttpResult& h = t->http;
    h.tls_used = true;
    h.tls_version = SSL_get_version(ssl);
    auto dates = certificate_dates(SSL_get_peer_cert_chain(ssl));
    h.leaf_not_after = dates.leaf_not_after;
    h.chain_not_after = dates.earliest_not_after;
    long result = SSL_get_verify_result(ssl);
    h.verified = result == X509_V_OK;
    if (result != X509_V_OK && t->verify) {
        t->abort_detail =
            std::string("certificate not trusted: ") + X509_verify_cert_error_string(result);
        if (result == X509_V_ERR_HOSTNAME_MISMATCH || result == X509_V_ERR_IP_ADDRESS_MISMATCH)
            t->abort_detail +=
                " (it does not name " + t->host +
                (IpAddress::parse(t->host) ? "; give the name it carries in http.host or the url)"
                                           : ")");
        return CURL_PREREQFUNC_ABORT;
    }
    return CURL_PREREQFUNC_OK;
}

size_t HttpProbe::on_body(char* data, size_t size, size_t count, void* transfer) {
    auto* t = static_cast<Transfer*>(transfer);
    size_t n = size * count;
    if (t->body_regex && t->body.size() < kMaxBody)
        t->body.append(data, std::min(n, kMaxBody - t->body.size()));
    return n;
}

int HttpProbe::on_socket(CURL*, curl_socket_t fd, int what, void* data, void*) {
    auto* self = static_cast<HttpProbe*>(data);
    if (what == CURL_POLL_REMOVE) {
        if (self->watched_.erase(fd)) self->loop_.remove_fd(fd);
        return 0;
    }
    std::uint32_t events =
        ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
    if (self->watched_.count(fd)) return self->loop_.modify_fd(fd, events).ok() ? 0 : -1;
    Status st = self->loop_.add_fd(fd, events, [self, fd](std::uint32_t ev) {
        int mask = ((ev & EPOLLIN) ? CURL_CSELECT_IN : 0) |
                   ((ev & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                   ((ev & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
        self->action(fd, mask);
    });
    if (!st.ok()) return -1;
    self->watched_.insert(fd);
    return 0;
}

int HttpProbe::on_timer(CURLM*, long timeout_ms, void* data) {
    auto* self = static_cast<HttpProbe*>(data);
    if (self->timer_) self->loop_.cancel_timer(self->timer_);
    self->timer_ = 0;
    if (timeout_ms < 0) return 0;
    // Never socket_action from inside libcurl's own callback: the loop calls it next round.
    self->timer_ =
        self->loop_.add_timer(self->loop_.now() + std::chrono::milliseconds(timeout_ms), [self] {
            self->timer_ = 0;
            self->action(CURL_SOCKET_TIMEOUT, 0);
        });
    return 0;
}

void HttpProbe::action(int fd, int mask) {
    int running = 0;
    curl_multi_socket_action(multi_, fd, mask, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
        if (msg->msg != CURLMSG_DONE) continue;
        CURL* easy = msg->easy_handle;
        CURLcode code = msg->data.result;  // msg is gone once the handle is removed
        finish(easy, code);
    }
}

void HttpProbe::finish(CURL* easy, CURLcode code) {
    auto it = transfers_.find(easy);
    if (it == transfers_.end()) return;
    Transfer& t = *it->second;
    ProbeResult r;
    CurlTimes times;
    curl_easy_getinfo(easy, CURLINFO_NAMELOOKUP_TIME_T, &times.namelookup);
    curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &times.connect);
    curl_easy_getinfo(easy, CURLINFO_APPCONNECT_TIME_T, &times.appconnect);
    curl_easy_getinfo(easy, CURLINFO_PRETRANSFER_TIME_T, &times.pretransfer);
    curl_easy_getinfo(easy, CURLINFO_STARTTRANSFER_TIME_T, &times.starttransfer);
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &times.total);
    t.http.phases = http_phases(times);
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    t.http.status = static_cast<int>(status);
    if (code == CURLE_OK) {
        r.duration = std::chrono::microseconds(times.total);
        auto check = check_http_response(t.http.status, t.expected_status, t.body, t.body_regex);
        r.outcome = check.outcome;
        r.detail = check.detail;
    } else if (!t.local_error.empty()) {
        r.duration = loop_.now() - t.started;
        r.outcome = Outcome::error;
        r.detail = t.local_error;
    } else {
        r.duration = loop_.now() - t.started;
        HttpFailure f;
        f.code = code;
        curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &f.os_errno);
        f.connected = times.connect > 0;
        f.tls = t.tls;
        f.tls_done = times.appconnect > 0;
        f.curl_error = t.curl_error;
        f.abort_detail = t.abort_detail;
        f.icmp = t.icmp;
        bool target_said_so = false;
        auto check = classify_http_failure(f, target_said_so);
        r.outcome = check.outcome;
        r.detail = check.detail;
        if (target_said_so)
            r.reporter = t.destination;
        else if (f.icmp && !f.connected && f.icmp->from_icmp())
            r.reporter = f.icmp->offender;
    }
    r.kind = std::move(t.http);
    Done done = std::move(t.done);
    curl_multi_remove_handle(multi_, easy);
    curl_easy_cleanup(easy);
    transfers_.erase(it);
    loop_.fd_budget().give();  // may wake other probes' queues (deferred) as well as ours
    done(std::move(r));
    start_queued();
}

}  // namespace fedprobe
