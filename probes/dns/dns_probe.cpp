#include "probes/dns/dns_probe.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "probes/dns/dns_match.hpp"
#include "probes/outcome.hpp"

namespace fedprobe {

namespace {

std::vector<std::string> parse_answers(const std::string& type, unsigned char* abuf, int alen) {
    std::vector<std::string> out;
    char text[INET6_ADDRSTRLEN];
    if (type == "A") {
        ares_addrttl ttls[64];
        int n = 64;
        if (ares_parse_a_reply(abuf, alen, nullptr, ttls, &n) == ARES_SUCCESS)
            for (int i = 0; i < n; ++i)
                if (inet_ntop(AF_INET, &ttls[i].ipaddr, text, sizeof text)) out.emplace_back(text);
    } else if (type == "AAAA") {
        ares_addr6ttl ttls[64];
        int n = 64;
        if (ares_parse_aaaa_reply(abuf, alen, nullptr, ttls, &n) == ARES_SUCCESS)
            for (int i = 0; i < n; ++i)
                if (inet_ntop(AF_INET6, &ttls[i].ip6addr, text, sizeof text))
                    out.emplace_back(text);
    } else if (type == "MX") {
        ares_mx_reply* mx = nullptr;
        if (ares_parse_mx_reply(abuf, alen, &mx) == ARES_SUCCESS)
            for (auto* m = mx; m; m = m->next)
                out.push_back(std::to_string(m->priority) + " " + m->host);
        if (mx) ares_free_data(mx);
    } else if (type == "SRV") {
        ares_srv_reply* srv = nullptr;
        if (ares_parse_srv_reply(abuf, alen, &srv) == ARES_SUCCESS)
            for (auto* s = srv; s; s = s->next)
                out.push_back(std::to_string(s->priority) + " " + std::to_string(s->weight) + " " +
                              std::to_string(s->port) + " " + s->host);
        if (srv) ares_free_data(srv);
    } else if (type == "TXT") {
        ares_txt_reply* txt = nullptr;
        if (ares_parse_txt_reply(abuf, alen, &txt) == ARES_SUCCESS)
            for (auto* t = txt; t; t = t->next)
                out.emplace_back(reinterpret_cast<char*>(t->txt), t->length);
        if (txt) ares_free_data(txt);
    } else {  // PTR and CNAME: the name the record points to
        hostent* host = nullptr;
        if (ares_parse_ptr_reply(abuf, alen, nullptr, 0, AF_INET, &host) == ARES_SUCCESS && host)
            out.emplace_back(host->h_name);
        if (host) ares_free_hostent(host);
    }
    return out;
}

}  // namespace

constexpr Duration kAresBackstop = std::chrono::seconds(1);

const ares_socket_functions DnsProbe::kWireFunctions = {
    &DnsProbe::wire_socket, &DnsProbe::wire_close, &DnsProbe::wire_connect,
    &DnsProbe::wire_recvfrom, &DnsProbe::wire_sendv};

DnsProbe::DnsProbe(std::unique_ptr<Wire> own, Wire* wire)
    : own_wire_(std::move(own)), wire_(wire ? *wire : *own_wire_) {
    ares_library_init(ARES_LIB_INIT_ALL);
}

DnsProbe::~DnsProbe() {
    for (auto& [id, q] : queries_) {
        if (q->timer) wire_.cancel_timer(q->timer);
        q->answered = true;  // ares_destroy calls back with ARES_EDESTRUCTION: nothing to report
        for (int fd : q->fds)
            wire_.unwatch(fd);
        q->fds.clear();
        ares_destroy(q->channel);  // closes its sockets through wire_close
    }
    ares_library_cleanup();
}

void DnsProbe::on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto* q = static_cast<Query*>(data);
    Wire& wire = q->self->wire_;
    if (!readable && !writable) {
        if (q->fds.erase(fd)) wire.unwatch(fd);
        return;
    }
    std::uint32_t events = (readable ? EPOLLIN : 0u) | (writable ? EPOLLOUT : 0u);
    if (q->fds.count(fd)) {
        // Cannot fail for a descriptor on the set; were it to, the query's own timer ends it.
        (void)wire.modify(fd, events);
        return;
    }
    ares_channel channel = q->channel;
    if (!wire.watch(fd, events,
                    [q, channel, fd](std::uint32_t ev) {
                        if (ev & EPOLLERR) {
                            // Read before c-ares does: it would take the socket's pending error
                            // for a refusal by the server, whoever sent it.
                            while (auto e = q->self->wire_.read_error(fd))
                                if (e->from_icmp()) return q->self->on_icmp(*q, *e);
                        }
                        ares_process_fd(
                            channel, (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) ? fd : ARES_SOCKET_BAD,
                            (ev & EPOLLOUT) ? fd : ARES_SOCKET_BAD);
                    })
             .ok())
        return;  // unwatched: the query's timer cancels it, reported as no answer
    q->fds.insert(fd);
}

ares_socket_t DnsProbe::wire_socket(int family, int type, int protocol, void* data) {
    auto* q = static_cast<Query*>(data);
    // The site's source address, device and DSCP: c-ares sets no option on a socket it did not
    // open itself, so ares_set_local_ip4 and the like would not apply.
    auto opened = q->self->wire_.open(family, type, protocol, q->request.send());
    return opened.ok() ? *opened : ARES_SOCKET_BAD;  // errno says why
}

int DnsProbe::wire_close(ares_socket_t fd, void* data) {
    auto* q = static_cast<Query*>(data);
    if (q->fds.erase(fd)) q->self->wire_.unwatch(fd);
    q->peers.erase(fd);
    q->self->wire_.close(fd);
    return 0;
}

int DnsProbe::wire_connect(ares_socket_t fd, const sockaddr* to, ares_socklen_t len, void* data) {
    auto* q = static_cast<Query*>(data);
    auto peer = Endpoint::from_sockaddr(to);
    if (!peer || len > sizeof(sockaddr_storage)) {
        errno = EAFNOSUPPORT;
        return -1;
    }
    sockaddr_storage& stored = q->peers[fd];
    std::memcpy(&stored, to, len);
    return q->self->wire_.connect(fd, peer->address, peer->port);
}

ares_ssize_t DnsProbe::wire_recvfrom(ares_socket_t fd, void* buf, size_t len, int, sockaddr* from,
                                     ares_socklen_t* from_len, void* data) {
    auto* q = static_cast<Query*>(data);
    const ssize_t n = q->self->wire_.receive(fd, {static_cast<std::uint8_t*>(buf), len});
    // Connected: whatever the socket reads came from its peer, which c-ares checks it is.
    if (n >= 0 && from && from_len) {
        auto it = q->peers.find(fd);
        if (it != q->peers.end()) {
            const auto size = std::min<ares_socklen_t>(*from_len, sizeof(sockaddr_storage));
            std::memcpy(from, &it->second, size);
            *from_len = size;
        }
    }
    return n;
}

ares_ssize_t DnsProbe::wire_sendv(ares_socket_t fd, const iovec* iov, int count, void* data) {
    auto* q = static_cast<Query*>(data);
    std::vector<std::uint8_t> bytes;
    for (int i = 0; i < count; ++i) {
        const auto* p = static_cast<const std::uint8_t*>(iov[i].iov_base);
        bytes.insert(bytes.end(), p, p + iov[i].iov_len);
    }
    return q->self->wire_.send(fd, bytes);
}

void DnsProbe::on_icmp(Query& q, const QueuedError& error) {
    ProbeResult r;
    r.outcome = outcome_of(error);
    r.reporter = error.offender;
    r.detail = "icmp type " + std::to_string(error.type) + " code " + std::to_string(error.code);
    r.duration = wire_.now() - q.started;
    r.kind = DnsResult{};
    complete(q, std::move(r));
}

std::unique_ptr<Probe> DnsKind::make_probe(EventLoop& loop) {
    return std::make_unique<DnsProbe>(loop);
}

void DnsProbe::start(const ProbeRequest& req, Done done) {
    const DnsParams& dns = req.as<DnsKind>();
    auto q = std::make_unique<Query>();
    q->self = this;
    q->id = next_id_++;
    q->started = wire_.now();
    q->request = req;
    q->done = std::move(done);
    ares_options opts{};
    opts.sock_state_cb = &DnsProbe::on_socket_state;
    opts.sock_state_cb_data = q.get();
    // The query's deadline is the probe's own timer below, on the wire's clock, which reads what
    // already waits on the socket first; c-ares' timeout (on the system's clock) is a backstop.
    opts.timeout = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(req.timeout + kAresBackstop).count());
    opts.tries = 1;
    // NOCHECKRESP: a SERVFAIL or REFUSED is an answer to report, not one to retry elsewhere.
    opts.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_NOCHECKRESP |
                 (dns.tcp ? ARES_FLAG_USEVC : 0);
    int optmask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;
    std::string error;
    if (int rc = ares_init_options(&q->channel, &opts, optmask); rc != ARES_SUCCESS) {
        error = std::string("c-ares: ") + ares_strerror(rc);
    } else {
        // The target's own address is the server: never the appliance's resolver.
        std::string server =
            Endpoint{req.destination, req.port ? req.port : std::uint16_t{53}}.str();
        if (int rc2 = ares_set_servers_ports_csv(q->channel, server.c_str()); rc2 != ARES_SUCCESS)
            error = std::string("c-ares servers: ") + ares_strerror(rc2);
        ares_set_socket_functions(q->channel, &kWireFunctions, q.get());
    }
    Query* raw = q.get();
    queries_.emplace(raw->id, std::move(q));
    if (!error.empty()) {
        wire_.defer([this, raw, error] {
            ProbeResult r;
            r.outcome = Outcome::error;
            r.detail = error;
            r.kind = DnsResult{};
            complete(*raw, std::move(r));
        });
        return;
    }
    raw->timer = wire_.add_timer(raw->started + req.timeout + std::chrono::milliseconds(50), [raw] {
        raw->timer = 0;
        // An answer that already waits on a socket counts, however busy the loop was.
        for (int fd : std::set<int>(raw->fds))
            ares_process_fd(raw->channel, fd, ARES_SOCKET_BAD);
        if (raw->answered) return;
        ares_cancel(raw->channel);  // calls back with ARES_ECANCELLED: no answer in time
    });
    ares_query(raw->channel, dns.query.name.c_str(), 1 /* C_IN */,
               dns_type_from_name(dns.query.type), &DnsProbe::on_answer, raw);
}

void DnsProbe::on_answer(void* arg, int status, int, unsigned char* abuf, int alen) {
    auto* q = static_cast<Query*>(arg);
    if (q->answered || status == ARES_EDESTRUCTION) return;
    DnsProbe& self = *q->self;
    const DnsParams& dns = q->request.as<DnsKind>();
    ProbeResult r;
    DnsResult result;
    r.duration = self.wire_.now() - q->started;
    if (abuf && alen >= 12) {
        result.rcode = abuf[3] & 0x0f;
        std::vector<std::string> answers;
        if (status == ARES_SUCCESS) answers = parse_answers(dns.query.type, abuf, alen);
        result.answers = static_cast<int>(answers.size());
        auto check = check_dns_answer(result.rcode, answers, dns.query, dns.expected);
        r.outcome = check.outcome;
        r.detail = check.detail;
    } else if (status == ARES_ETIMEOUT || status == ARES_ECANCELLED) {
        r.outcome = Outcome::filtered;
        r.detail = "no answer before the timeout";
    } else if (status == ARES_ECONNREFUSED) {
        r.outcome = Outcome::refused;
        r.reporter = q->request.destination;
        r.detail = "connection refused";
    } else {
        r.outcome = Outcome::error;
        r.detail = std::string("c-ares: ") + ares_strerror(status);
    }
    r.kind = result;
    self.complete(*q, std::move(r));
}

void DnsProbe::complete(Query& q, ProbeResult result) {
    if (q.answered) return;
    q.answered = true;
    if (q.timer) wire_.cancel_timer(q.timer);
    q.timer = 0;
    Done done = std::move(q.done);
    // Not inside c-ares' own callback: the channel goes on the next loop round.
    wire_.defer([this, id = q.id] { destroy(id); });
    done(std::move(result));
}

void DnsProbe::destroy(std::uint64_t id) {
    auto it = queries_.find(id);
    if (it == queries_.end()) return;
    Query& q = *it->second;
    if (q.channel) ares_destroy(q.channel);  // closes its sockets through wire_close
    for (int fd : q.fds)
        wire_.unwatch(fd);
    queries_.erase(it);
}

}  // namespace fedprobe
