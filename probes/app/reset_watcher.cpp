#include "probes/app/reset_watcher.hpp"

#include <linux/filter.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

namespace fedprobe {

namespace {

constexpr std::uint8_t kRst = 0x04, kSyn = 0x02, kAck = 0x10;

std::uint16_t be16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

std::optional<SeenSegment> from_tcp(std::span<const std::uint8_t> tcp) {
    if (tcp.size() < 20) return std::nullopt;
    SeenSegment s;
    s.remote_port = be16(&tcp[0]);
    s.local_port = be16(&tcp[2]);
    const std::uint8_t flags = tcp[13];
    s.reset = flags & kRst;
    s.syn_ack = (flags & (kSyn | kAck)) == (kSyn | kAck);
    if (!s.reset && !s.syn_ack) return std::nullopt;
    return s;
}

// Passes only segments with RST, or with SYN and ACK, so the socket sees a few packets per
// connection rather than all of the host's TCP. The TCP header starts after the IP header on
// an IPv4 raw socket (the filter reads its length) and at 0 on an IPv6 one.
Status attach_filter(int fd, bool ipv4) {
    std::vector<sock_filter> code;
    if (ipv4) {
        code.push_back(BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0));  // x = IP header length
        code.push_back(BPF_STMT(BPF_LD | BPF_B | BPF_IND, 13));  // a = TCP flags
    } else {
        code.push_back(BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13));
    }
    code.push_back(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, kRst, 2, 0));
    code.push_back(BPF_STMT(BPF_ALU | BPF_AND | BPF_K, kSyn | kAck));
    code.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kSyn | kAck, 0, 1));
    code.push_back(BPF_STMT(BPF_RET | BPF_K, 0xffff));
    code.push_back(BPF_STMT(BPF_RET | BPF_K, 0));
    sock_fprog prog{static_cast<unsigned short>(code.size()), code.data()};
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0)
        return Status::from_errno("SO_ATTACH_FILTER", errno);
    return {};
}

}  // namespace

std::optional<SeenSegment> parse_seen_v4(std::span<const std::uint8_t> p) {
    if (p.size() < 20 || (p[0] >> 4) != 4 || p[9] != IPPROTO_TCP) return std::nullopt;
    const std::size_t ihl = (p[0] & 0x0f) * 4u;
    if (ihl < 20 || p.size() < ihl) return std::nullopt;
    auto s = from_tcp(p.subspan(ihl));
    if (!s) return std::nullopt;
    in_addr a;
    std::memcpy(&a, &p[12], 4);
    s->remote = IpAddress::from_in(a);
    s->ttl = p[8];
    return s;
}

std::optional<SeenSegment> parse_seen_v6(std::span<const std::uint8_t> segment,
                                         const IpAddress& source, int hop_limit) {
    auto s = from_tcp(segment);
    if (!s) return std::nullopt;
    s->remote = source;
    s->ttl = hop_limit;
    return s;
}

int hops_from_ttl(int ttl) {
    for (int initial : {32, 64, 128, 255})
        if (ttl <= initial) return initial - ttl;
    return 0;
}

constexpr auto kDrainEvery = std::chrono::milliseconds(100);

std::shared_ptr<ResetWatcher> ResetWatcher::of(EventLoop& loop) {
    // Loops of tests may run on threads of their own: the registry is locked, each watcher is
    // then used on its loop's thread only.
    static std::mutex mu;
    static std::map<EventLoop*, std::weak_ptr<ResetWatcher>> watchers;
    std::lock_guard lock(mu);
    std::erase_if(watchers, [](const auto& w) { return w.second.expired(); });
    std::weak_ptr<ResetWatcher>& slot = watchers[&loop];
    auto w = slot.lock();
    if (!w) slot = w = std::make_shared<ResetWatcher>(loop);
    return w;
}

ResetWatcher::~ResetWatcher() {
    if (timer_) loop_.cancel_timer(timer_);
    for (int fd : {fd4_, fd6_})
        if (fd >= 0) close(fd);
}

void ResetWatcher::arm() {
    if (timer_ || watched_.empty()) return;
    timer_ = loop_.add_timer(loop_.now() + kDrainEvery, [this] {
        timer_ = 0;
        drain_all();
        arm();
    });
}

void ResetWatcher::drain_all() {
    if (fd4_ >= 0) drain(fd4_, AF_INET);
    if (fd6_ >= 0) drain(fd6_, AF_INET6);
}

int ResetWatcher::socket_for(int family) {
    int& fd = family == AF_INET ? fd4_ : fd6_;
    bool& tried = family == AF_INET ? tried4_ : tried6_;
    if (fd >= 0 || tried) return fd;
    tried = true;  // once: without CAP_NET_RAW it would fail on every probe
    int s = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (s < 0) return -1;
    int on = 1;
    if (family == AF_INET6 && setsockopt(s, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on) != 0) {
        close(s);
        return -1;
    }
    if (!attach_filter(s, family == AF_INET).ok()) {
        close(s);
        return -1;
    }
    // Room for a second of SYN-ACKs at a few thousand connections a second between drains.
    int bytes = 4 << 20;
    (void)setsockopt(s, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    // Whatever arrived before the filter was attached may be any TCP segment: parsing checks.
    fd = s;
    return fd;
}

void ResetWatcher::drain(int fd, int family) {
    constexpr unsigned kBatch = 32;
    // Headers only: the rest of a segment is cut off (MSG_TRUNC).
    std::array<std::array<std::uint8_t, 128>, kBatch> bufs;
    std::array<sockaddr_storage, kBatch> from;
    std::array<std::array<char, CMSG_SPACE(sizeof(int))>, kBatch> control;
    std::array<iovec, kBatch> iov;
    std::array<mmsghdr, kBatch> msgs;
    for (int round = 0; round < 128; ++round) {  // bounded: a flood cannot hold the loop
        for (unsigned i = 0; i < kBatch; ++i) {
            iov[i] = {bufs[i].data(), bufs[i].size()};
            msgs[i] = {};
            msgs[i].msg_hdr.msg_name = &from[i];
            msgs[i].msg_hdr.msg_namelen = sizeof from[i];
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_control = control[i].data();
            msgs[i].msg_hdr.msg_controllen = control[i].size();
        }
        const int n = recvmmsg(fd, msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
        if (n <= 0) return;  // EAGAIN: empty; anything else: nothing more to read now
        for (int i = 0; i < n; ++i) {
            const std::size_t got = std::min<std::size_t>(msgs[i].msg_len, bufs[i].size());
            std::optional<SeenSegment> s;
            if (family == AF_INET) {
                s = parse_seen_v4({bufs[i].data(), got});
            } else {
                int hops = -1;
                msghdr& m = msgs[i].msg_hdr;
                for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
                    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)
                        std::memcpy(&hops, CMSG_DATA(c), sizeof hops);
                auto source = IpAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&from[i]));
                if (source) s = parse_seen_v6({bufs[i].data(), got}, *source, hops);
            }
            if (!s) continue;
            auto it = watched_.find(key(s->remote, s->remote_port, s->local_port));
            if (it == watched_.end()) continue;
            if (s->syn_ack) it->second.syn_ack = s->ttl;
            if (s->reset) it->second.reset = s->ttl;
        }
        if (static_cast<unsigned>(n) < kBatch) return;
    }
}

bool ResetWatcher::watch(const IpAddress& remote, std::uint16_t rp, std::uint16_t lp) {
    if (socket_for(remote.family) < 0) return false;
    watched_[key(remote, rp, lp)] = Ttls{};
    arm();
    return true;
}

ResetWatcher::Ttls ResetWatcher::ttls(const IpAddress& remote, std::uint16_t rp, std::uint16_t lp) {
    int fd = remote.family == AF_INET ? fd4_ : fd6_;
    if (fd >= 0) drain(fd, remote.family);
    auto it = watched_.find(key(remote, rp, lp));
    return it == watched_.end() ? Ttls{} : it->second;
}

void ResetWatcher::forget(const IpAddress& remote, std::uint16_t rp, std::uint16_t lp) {
    watched_.erase(key(remote, rp, lp));
}

}  // namespace fedprobe
