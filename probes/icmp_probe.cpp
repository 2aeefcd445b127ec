#include "probes/icmp_probe.hpp"

// net/if.h must precede linux/icmp.h (which pulls in linux/if.h), or their definitions clash.
#include <net/if.h>

#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "probes/socket_errors.hpp"

namespace fedprobe {

namespace {

std::int64_t realtime_ns() {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

int open_icmp_socket(int family, bool& raw, std::string& error) {
    int proto = family == AF_INET ? int{IPPROTO_ICMP} : int{IPPROTO_ICMPV6};
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    raw = false;
    if (fd < 0 && (errno == EACCES || errno == EPERM)) {
        fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
        raw = true;
    }
    if (fd < 0) {
        error = std::string("cannot open an ICMP socket (") + std::strerror(errno) +
                "): allow ping sockets with sysctl net.ipv4.ping_group_range or grant CAP_NET_RAW";
    }
    return fd;
}

// Raw sockets see every ICMP message on the host: let through only what concerns echoes.
int install_raw_filter(int fd, int family) {
    if (family == AF_INET) {
        icmp_filter filter{};
        filter.data = ~((1u << ICMP_ECHOREPLY) | (1u << ICMP_DEST_UNREACH) |
                        (1u << ICMP_TIME_EXCEEDED) | (1u << ICMP_PARAMETERPROB));
        return setsockopt(fd, SOL_RAW, ICMP_FILTER, &filter, sizeof filter);
    }
    icmp6_filter filter;
    ICMP6_FILTER_SETBLOCKALL(&filter);
    ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filter);
    ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &filter);
    ICMP6_FILTER_SETPASS(ICMP6_PACKET_TOO_BIG, &filter);
    ICMP6_FILTER_SETPASS(ICMP6_TIME_EXCEEDED, &filter);
    ICMP6_FILTER_SETPASS(ICMP6_PARAM_PROB, &filter);
    return setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter);
}

// Checked only after a failed send, so it costs nothing on the hot path.
bool is_local_address(const IpAddress& a) {
    int fd = socket(a.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return true;  // cannot tell: do not blame the config
    sockaddr_storage ss;
    socklen_t len = a.to_sockaddr(0, ss);
    bool local = bind(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0 || errno != EADDRNOTAVAIL;
    close(fd);
    return local;
}

}  // namespace

IcmpProbe::IcmpProbe(EventLoop& loop) : loop_(loop) {
    rng_state_ = static_cast<std::uint64_t>(realtime_ns()) ^ (std::uint64_t(getpid()) << 32) ^
                 0x9e3779b97f4a7c15ull;
    matcher_.seed(random32());
}

IcmpProbe::~IcmpProbe() {
    for (auto& s : sockets_) {
        if (s.fd < 0) continue;
        loop_.remove_fd(s.fd);
        close(s.fd);
    }
    for (auto& r : rounds_)
        if (r.active && r.timer) loop_.cancel_timer(r.timer);
}

std::uint32_t
IcmpProbe::random32() {  // xorshift64*: nonces need to be unpredictable-ish, not secret
    rng_state_ ^= rng_state_ >> 12;
    rng_state_ ^= rng_state_ << 25;
    rng_state_ ^= rng_state_ >> 27;
    return static_cast<std::uint32_t>((rng_state_ * 0x2545f4914f6cdd1dull) >> 32);
}

std::string IcmpProbe::socket_kind(int family) const {
    for (const auto& s : sockets_)
        if (s.fd >= 0 && s.family == family) return s.raw ? "raw" : "ping";
    return "";
}

IcmpProbe::Socket* IcmpProbe::socket_for(int family, bool df, std::string& error) {
    Socket& s = sockets_[(family == AF_INET6 ? 2 : 0) + (df ? 1 : 0)];
    if (s.fd >= 0) return &s;
    int fd = open_icmp_socket(family, s.raw, error);
    if (fd < 0) return nullptr;
    int on = 1;
    const char* what = nullptr;
    if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0) what = "SO_TIMESTAMPNS";
    // Ping sockets learn of ICMP errors through the error queue; raw sockets read them directly.
    if (!what && !s.raw && enable_error_queue(fd, family) != 0) what = "IP_RECVERR";
    if (!what && s.raw && install_raw_filter(fd, family) != 0) what = "ICMP_FILTER";
    if (!what) {
        int rc;
        if (family == AF_INET) {
            int pmtu =
                df ? IP_PMTUDISC_PROBE : IP_PMTUDISC_DONT;  // PROBE: DF set, ignore the cached PMTU
            rc = setsockopt(fd, SOL_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu);
        } else {
            int dontfrag = df ? 1 : 0;
            rc = setsockopt(fd, IPPROTO_IPV6, IPV6_DONTFRAG, &dontfrag, sizeof dontfrag);
        }
        if (rc != 0) what = "IP_MTU_DISCOVER";
    }
    if (!what) {
        // Bursts of replies from many targets land at once; SO_RCVBUF is capped by rmem_max
        // (about 1,300 replies), so ask for more where CAP_NET_ADMIN allows.
        int buf = 8 << 20;
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    }
    if (!what) {
        s.fd = fd;
        s.family = family;
        matcher_.set_raw_ids(s.raw);  // ping_group_range covers both IP versions: all sockets alike
        if (int e = loop_.add_fd(fd, EPOLLIN | EPOLLERR,
                                 [this, &s](std::uint32_t ev) {
                                     if (ev & EPOLLERR) on_error_queue(s);
                                     if (ev & EPOLLIN) on_readable(s);
                                 });
            e != 0) {
            error = std::string("epoll: ") + std::strerror(e);
            close(fd);
            s.fd = -1;
            return nullptr;
        }
        return &s;
    }
    error = std::string(what) + ": " + std::strerror(errno);
    close(fd);
    return nullptr;
}

void IcmpProbe::start(const ProbeRequest& req, Done done) {
    std::string error;
    Socket* sock = socket_for(req.destination.family, req.icmp.dont_fragment, error);
    unsigned ifindex = 0;
    if (sock && !req.send.device.empty()) {
        ifindex = if_nametoindex(req.send.device.c_str());
        if (ifindex == 0) error = "device '" + req.send.device + "': " + std::strerror(errno);
    }
    if (!sock || !error.empty()) {
        loop_.defer([done = std::move(done), error] {
            ProbeResult r;
            r.outcome = Outcome::error;
            r.detail = error;
            done(std::move(r));
        });
        return;
    }
    std::uint32_t index;
    if (!free_rounds_.empty()) {
        index = free_rounds_.back();
        free_rounds_.pop_back();
    } else {
        index = static_cast<std::uint32_t>(rounds_.size());
        rounds_.emplace_back();
    }
    Round& r = rounds_[index];
    r.active = true;
    r.done = std::move(done);
    r.request = req;
    r.ifindex = ifindex;
    r.nonce = random32();
    r.started = loop_.now();
    r.timer = 0;
    r.sent = r.resolved = 0;
    r.result = ProbeResult{};
    r.have_error = false;
    r.socket = sock;
    r.keys.clear();
    send_next(index);
}

void IcmpProbe::send_next(std::uint32_t index) {
    Round& r = rounds_[index];
    r.timer = 0;
    const ProbeRequest& req = r.request;
    const int family = req.destination.family;

    std::int64_t evicted = -1;
    const std::uint32_t key = matcher_.add(index, r.nonce, realtime_ns(), &evicted);
    if (evicted >= 0 && rounds_[static_cast<std::size_t>(evicted)].active) {
        // More requests in flight than the ring holds: the evicted one can no longer be matched.
        ++rounds_[static_cast<std::size_t>(evicted)].resolved;
    }
    // Raw sockets write the whole key in id+seq, so (id, seq) never repeats towards a target for
    // 2^32 packets and stateful firewalls never mistake a new round for an old one. Ping sockets
    // get their id from the kernel (one per socket) and carry the low 16 bits as the sequence.
    std::uint16_t id = static_cast<std::uint16_t>(key >> 16), seq = static_cast<std::uint16_t>(key);
    std::uint8_t packet[65536];
    std::size_t len = build_echo_request(packet, family, id, seq, key, r.nonce,
                                         static_cast<std::size_t>(req.icmp.payload_bytes));

    sockaddr_storage dst;
    socklen_t dst_len = req.destination.to_sockaddr(0, dst);
    iovec iov{packet, len};
    msghdr msg{};
    msg.msg_name = &dst;
    msg.msg_namelen = dst_len;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) std::uint8_t control[256] = {};
    std::size_t control_len = 0;
    auto add_cmsg = [&](int level, int type, const void* data, std::size_t n) {
        cmsghdr* c = reinterpret_cast<cmsghdr*>(control + control_len);
        c->cmsg_level = level;
        c->cmsg_type = type;
        c->cmsg_len = CMSG_LEN(n);
        std::memcpy(CMSG_DATA(c), data, n);
        control_len += CMSG_SPACE(n);
    };
    // Per-packet TTL, DSCP, source and interface: one shared socket serves targets that differ.
    int tos = req.send.dscp >= 0 ? req.send.dscp << 2 : -1;
    if (family == AF_INET) {
        if (req.icmp.ttl > 0) add_cmsg(SOL_IP, IP_TTL, &req.icmp.ttl, sizeof(int));
        if (tos >= 0) add_cmsg(SOL_IP, IP_TOS, &tos, sizeof(int));
        if (req.send.source || r.ifindex) {
            in_pktinfo pi{};
            pi.ipi_ifindex = static_cast<int>(r.ifindex);
            if (req.send.source) std::memcpy(&pi.ipi_spec_dst, req.send.source->bytes.data(), 4);
            add_cmsg(SOL_IP, IP_PKTINFO, &pi, sizeof pi);
        }
    } else {
        if (req.icmp.ttl > 0) add_cmsg(SOL_IPV6, IPV6_HOPLIMIT, &req.icmp.ttl, sizeof(int));
        if (tos >= 0) add_cmsg(SOL_IPV6, IPV6_TCLASS, &tos, sizeof(int));
        if (req.send.source || r.ifindex) {
            in6_pktinfo pi{};
            pi.ipi6_ifindex = r.ifindex;
            if (req.send.source) std::memcpy(&pi.ipi6_addr, req.send.source->bytes.data(), 16);
            add_cmsg(SOL_IPV6, IPV6_PKTINFO, &pi, sizeof pi);
        }
    }
    if (control_len) {
        msg.msg_control = control;
        msg.msg_controllen = control_len;
    }

    r.keys.push_back(key);
    ++r.sent;
    if (sendmsg(r.socket->fd, &msg, 0) < 0) {
        int err = errno;
        matcher_.forget(key);
        --r.sent;  // never left this host: not a packet on the wire
        ++r.resolved;
        if (!r.have_error) {
            r.result.outcome = outcome_from_errno(err);
            if (r.result.outcome == Outcome::ok || r.result.outcome == Outcome::filtered)
                r.result.outcome = Outcome::error;
            r.result.detail = std::string("sendmsg: ") + std::strerror(err);
            // The kernel says "unreachable" or "invalid" for a source it does not own: that is
            // this appliance's misconfiguration, not the network's verdict.
            if (req.send.source && !is_local_address(*req.send.source)) {
                r.result.outcome = Outcome::error;
                r.result.detail =
                    "source address " + req.send.source->str() + " is not on this host";
            }
            r.have_error = true;
        }
    }

    const int total = req.icmp.packets;
    const int attempted = static_cast<int>(r.keys.size());
    if (attempted < total) {
        r.timer = loop_.add_timer(r.started + req.icmp.spacing * attempted,
                                  [this, index] { send_next(index); });
    } else if (r.resolved >= total) {
        loop_.defer([this, index, nonce = r.nonce] {
            if (rounds_[index].active && rounds_[index].nonce == nonce) finish(index);
        });
    } else {
        r.timer = loop_.add_timer(loop_.now() + req.timeout, [this, index] {
            rounds_[index].timer = 0;
            finish(index);
        });
    }
}

void IcmpProbe::on_readable(Socket& s) {
    constexpr unsigned kBatch = 64;
    static std::uint8_t buffers[kBatch][2048];
    alignas(cmsghdr) static std::uint8_t controls[kBatch][128];
    static sockaddr_storage names[kBatch];
    static iovec iovs[kBatch];
    static mmsghdr msgs[kBatch];
    for (int rounds = 0; rounds < 64;
         ++rounds) {  // bounded, so one busy socket cannot starve the loop
        for (unsigned i = 0; i < kBatch; ++i) {
            iovs[i] = iovec{buffers[i], sizeof buffers[i]};
            msgs[i].msg_hdr = msghdr{};
            msgs[i].msg_hdr.msg_name = &names[i];
            msgs[i].msg_hdr.msg_namelen = sizeof names[i];
            msgs[i].msg_hdr.msg_iov = &iovs[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_control = controls[i];
            msgs[i].msg_hdr.msg_controllen = sizeof controls[i];
        }
        int n = recvmmsg(s.fd, msgs, kBatch, MSG_DONTWAIT, nullptr);
        if (n <= 0) return;
        for (int i = 0; i < n; ++i) {
            std::int64_t rx_ns = 0;
            for (cmsghdr* c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c;
                 c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
                    timespec ts;
                    std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
                    rx_ns = std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
                }
            }
            if (rx_ns == 0) rx_ns = realtime_ns();
            auto from = IpAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&names[i]));
            if (!from) continue;
            std::span<const std::uint8_t> data(buffers[i], msgs[i].msg_len);
            auto m = s.family == AF_INET ? parse_icmp4(data, s.raw) : parse_icmp6(data);
            if (m) handle(s.family, *m, *from, rx_ns);
        }
        if (static_cast<unsigned>(n) < kBatch) return;
    }
}

void IcmpProbe::on_error_queue(Socket& s) {
    while (auto q = read_error_queue(s.fd)) {
        if (!q->from_icmp() || !q->offender) continue;
        auto m = parse_quoted_request(q->quoted, s.family);
        if (!m) continue;
        m->kind = IcmpMessage::Kind::error;
        m->type = q->type;
        m->code = q->code;
        handle(s.family, *m, *q->offender, realtime_ns());  // the kernel matched it to our socket
    }
}

void IcmpProbe::handle(int family, const IcmpMessage& m, const IpAddress& from,
                       std::int64_t rx_ns) {
    auto found = matcher_.find(m);
    switch (found.verdict) {
        case EchoMatcher::Verdict::foreign:
            return;
        case EchoMatcher::Verdict::unmatched:
            ++stats_.unmatched;
            return;
        case EchoMatcher::Verdict::late:
            ++stats_.late;
            return;  // counted, never mistaken for success
        default:
            break;
    }
    Round& r = rounds_[found.round];
    if (!r.active) {
        ++stats_.late;
        return;
    }
    if (m.kind == IcmpMessage::Kind::echo_reply) {
        if (from != r.request.destination) {
            ++stats_.unmatched;  // a reply must come from the address we pinged
            return;
        }
        if (found.verdict == EchoMatcher::Verdict::duplicate) {
            ++r.result.duplicates;
            return;
        }
        ++r.result.packets_received;
        r.result.rtts.push_back(Duration(std::max<std::int64_t>(0, rx_ns - found.sent_ns)));
    } else {
        if (m.quoted_destination && *m.quoted_destination != r.request.destination) {
            ++stats_.unmatched;
            return;
        }
        if (found.verdict == EchoMatcher::Verdict::duplicate) return;
        Outcome o = family == AF_INET ? outcome_from_icmp4(m.type, m.code)
                                      : outcome_from_icmp6(m.type, m.code);
        if (!r.have_error || r.result.outcome == Outcome::error) {
            r.result.outcome = o;
            r.result.reporter = from;
            r.result.detail =
                "icmp type " + std::to_string(m.type) + " code " + std::to_string(m.code);
            r.have_error = true;
        }
    }
    matcher_.answered(found.key);
    ++r.resolved;
    if (r.resolved >= r.request.icmp.packets &&
        static_cast<int>(r.keys.size()) >= r.request.icmp.packets)
        finish(found.round);
}

void IcmpProbe::finish(std::uint32_t index) {
    Round& r = rounds_[index];
    if (!r.active) return;
    if (r.timer) loop_.cancel_timer(r.timer);
    r.timer = 0;
    for (std::uint32_t key : r.keys)
        matcher_.expire(key, index);
    ProbeResult result = std::move(r.result);
    result.packets_sent = static_cast<std::uint32_t>(r.sent);
    if (result.packets_received > 0) {
        Duration sum{};
        for (auto d : result.rtts)
            sum += d;
        result.duration = sum / static_cast<long>(result.rtts.size());
        result.outcome = Outcome::ok;
        result.reporter.reset();
        result.detail.clear();
    } else {
        result.duration = loop_.now() - r.started;
        if (!r.have_error) {
            result.outcome = Outcome::filtered;
            result.detail = "no reply before the timeout";
        }
    }
    Done done = std::move(r.done);
    r.active = false;
    r.done = nullptr;
    free_rounds_.push_back(index);
    done(std::move(result));
}

}  // namespace fedprobe
