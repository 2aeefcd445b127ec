#include "core/socket.hpp"

#include <net/if.h>
// net/if.h must precede linux/icmp.h (which pulls in linux/if.h).
#include <linux/errqueue.h>
#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace fedprobe {

bool QueuedError::from_icmp() const {
    return origin == SO_EE_ORIGIN_ICMP || origin == SO_EE_ORIGIN_ICMP6;
}

bool QueuedError::icmp_v6() const {
    return origin == SO_EE_ORIGIN_ICMP6;
}

Status enable_error_queue(int fd, int family) {
    int on = 1;
    int rc = family == AF_INET ? setsockopt(fd, SOL_IP, IP_RECVERR, &on, sizeof on)
                               : setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &on, sizeof on);
    return rc == 0 ? Status()
                   : Status::from_errno(family == AF_INET ? "IP_RECVERR" : "IPV6_RECVERR", errno);
}

std::optional<QueuedError> read_error_queue(int fd) {
    std::uint8_t data[576];
    alignas(cmsghdr) std::uint8_t control[512];
    sockaddr_storage from{};
    iovec iov{data, sizeof data};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
    if (n < 0) return std::nullopt;
    return parse_error_queue(msg, std::span<const std::uint8_t>(data, static_cast<std::size_t>(n)));
}

std::optional<QueuedError> parse_error_queue(const msghdr& msg,
                                             std::span<const std::uint8_t> payload) {
    // The kernel writes these headers, but a length is checked before it is trusted: a
    // cmsg_len past the buffer or too short for a sock_extended_err ends the walk.
    const auto* base = static_cast<const std::uint8_t*>(msg.msg_control);
    for (const cmsghdr* c = CMSG_FIRSTHDR(&msg); c;
         c = CMSG_NXTHDR(const_cast<msghdr*>(&msg), const_cast<cmsghdr*>(c))) {
        const std::size_t offset =
            static_cast<std::size_t>(reinterpret_cast<const std::uint8_t*>(c) - base);
        if (c->cmsg_len > msg.msg_controllen - offset) return std::nullopt;
        bool v4 = c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR;
        bool v6 = c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR;
        if (!v4 && !v6) continue;
        if (c->cmsg_len < CMSG_LEN(sizeof(sock_extended_err))) return std::nullopt;
        sock_extended_err ee;
        std::memcpy(&ee, CMSG_DATA(c), sizeof ee);
        QueuedError out;
        out.err = static_cast<int>(ee.ee_errno);
        out.origin = ee.ee_origin;
        out.type = ee.ee_type;
        out.code = ee.ee_code;
        out.info = ee.ee_info;
        // SO_EE_OFFENDER: the sockaddr stored right after the sock_extended_err, taken only
        // when the whole of it is there.
        sockaddr_storage offender{};
        const std::size_t room = c->cmsg_len - CMSG_LEN(sizeof ee);
        std::memcpy(&offender, CMSG_DATA(c) + sizeof ee, std::min(room, sizeof offender));
        const std::size_t need = offender.ss_family == AF_INET    ? sizeof(sockaddr_in)
                                 : offender.ss_family == AF_INET6 ? sizeof(sockaddr_in6)
                                                                  : SIZE_MAX;
        if (room >= need)
            out.offender = IpAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&offender));
        out.quoted.assign(payload.begin(), payload.end());
        return out;
    }
    return std::nullopt;
}

Status enable_rx_timestamps(int fd) {
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0)
        return Status::from_errno("SO_TIMESTAMPNS", errno);
    return {};
}

Status enable_rx_overflow_count(int fd) {
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on) != 0)
        return Status::from_errno("SO_RXQ_OVFL", errno);
    return {};
}

Status set_dont_fragment(int fd, int family, bool on) {
    if (family == AF_INET) {
        int pmtu = on ? IP_PMTUDISC_PROBE : IP_PMTUDISC_DONT;
        if (setsockopt(fd, SOL_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu) != 0)
            return Status::from_errno("IP_MTU_DISCOVER", errno);
        return {};
    }
    // As IPv4's PROBE: a packet is sized against the interface, not against a path MTU the
    // kernel learnt from an earlier packet-too-big, so a path MTU search measures the path.
    if (on) {
        int pmtu = IPV6_PMTUDISC_PROBE;
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof pmtu) != 0)
            return Status::from_errno("IPV6_MTU_DISCOVER", errno);
    }
    int dontfrag = on ? 1 : 0;
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_DONTFRAG, &dontfrag, sizeof dontfrag) != 0)
        return Status::from_errno("IPV6_DONTFRAG", errno);
    return {};
}

void grow_receive_buffer(int fd, int bytes) {
    // Best effort: a smaller buffer only means drops show up sooner, counted by SO_RXQ_OVFL.
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

Status pass_echo_replies_and_errors(int fd, int family) {
    if (family == AF_INET) {
        icmp_filter filter{};
        filter.data = ~((1u << ICMP_ECHOREPLY) | (1u << ICMP_DEST_UNREACH) |
                        (1u << ICMP_TIME_EXCEEDED) | (1u << ICMP_PARAMETERPROB));
        if (setsockopt(fd, SOL_RAW, ICMP_FILTER, &filter, sizeof filter) != 0)
            return Status::from_errno("ICMP_FILTER", errno);
        return {};
    }
    icmp6_filter filter;
    ICMP6_FILTER_SETBLOCKALL(&filter);
    ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filter);
    ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &filter);
    ICMP6_FILTER_SETPASS(ICMP6_PACKET_TOO_BIG, &filter);
    ICMP6_FILTER_SETPASS(ICMP6_TIME_EXCEEDED, &filter);
    ICMP6_FILTER_SETPASS(ICMP6_PARAM_PROB, &filter);
    if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter) != 0)
        return Status::from_errno("ICMP6_FILTER", errno);
    return {};
}

Status block_all_icmp(int fd, int family) {
    if (family == AF_INET) {
        icmp_filter filter{};
        filter.data = ~0u;
        if (setsockopt(fd, SOL_RAW, ICMP_FILTER, &filter, sizeof filter) != 0)
            return Status::from_errno("ICMP_FILTER", errno);
        return {};
    }
    icmp6_filter filter;
    ICMP6_FILTER_SETBLOCKALL(&filter);
    if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter) != 0)
        return Status::from_errno("ICMP6_FILTER", errno);
    return {};
}

Status enable_rx_hop_limit(int fd) {
    int on = 1;
    if (setsockopt(fd, SOL_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on) != 0)
        return Status::from_errno("IPV6_RECVHOPLIMIT", errno);
    return {};
}

Status enable_rx_packet_info(int fd, int family) {
    int on = 1;
    struct Option {
        int level, name;
        const char* what;
    };
    static constexpr Option v4[] = {{SOL_IP, IP_RECVTTL, "IP_RECVTTL"},
                                    {SOL_IP, IP_RECVTOS, "IP_RECVTOS"},
                                    {SOL_IP, IP_PKTINFO, "IP_PKTINFO"}};
    static constexpr Option v6[] = {{SOL_IPV6, IPV6_RECVHOPLIMIT, "IPV6_RECVHOPLIMIT"},
                                    {SOL_IPV6, IPV6_RECVTCLASS, "IPV6_RECVTCLASS"},
                                    {SOL_IPV6, IPV6_RECVPKTINFO, "IPV6_RECVPKTINFO"}};
    for (const Option& o :
         family == AF_INET6 ? std::span<const Option>(v6) : std::span<const Option>(v4))
        if (setsockopt(fd, o.level, o.name, &on, sizeof on) != 0)
            return Status::from_errno(o.what, errno);
    return {};
}

Status apply_send_options(int fd, int family, const SendOptions& send) {
    if (!send.device.empty() && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, send.device.c_str(),
                                           static_cast<socklen_t>(send.device.size())) != 0)
        return Status::from_errno("SO_BINDTODEVICE", errno);
    if (send.dscp >= 0) {
        int tos = send.dscp << 2;
        int rc = family == AF_INET ? setsockopt(fd, SOL_IP, IP_TOS, &tos, sizeof tos)
                                   : setsockopt(fd, SOL_IPV6, IPV6_TCLASS, &tos, sizeof tos);
        if (rc != 0) return Status::from_errno(family == AF_INET ? "IP_TOS" : "IPV6_TCLASS", errno);
    }
    if (send.source) {
        sockaddr_storage ss;
        socklen_t len = send.source->to_sockaddr(0, ss);
        if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0)
            return Status::from_errno("bind(source)", errno);
    }
    return {};
}

Result<int> open_probe_socket(int family, int type, int protocol, const SendOptions& send) {
    int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0) return Status::from_errno("socket", errno);
    Status s = enable_error_queue(fd, family);
    if (s.ok()) s = apply_send_options(fd, family, send);
    if (!s.ok()) {
        close(fd);
        return s;
    }
    return fd;
}

namespace {

// The options as control messages; their length. `control` holds at least 96 bytes.
std::size_t write_options(int family, const PacketOptions& o, std::uint8_t* control) {
    std::size_t control_len = 0;
    auto add = [&](int level, int type, const void* data, std::size_t n) {
        cmsghdr* c = reinterpret_cast<cmsghdr*>(control + control_len);
        c->cmsg_level = level;
        c->cmsg_type = type;
        c->cmsg_len = CMSG_LEN(n);
        std::memcpy(CMSG_DATA(c), data, n);
        control_len += CMSG_SPACE(n);
    };
    if (family == AF_INET) {
        if (o.ttl > 0) add(SOL_IP, IP_TTL, &o.ttl, sizeof(int));
        if (o.tos >= 0) add(SOL_IP, IP_TOS, &o.tos, sizeof(int));
        if (o.source || o.ifindex) {
            in_pktinfo pi{};
            pi.ipi_ifindex = static_cast<int>(o.ifindex);
            if (o.source) std::memcpy(&pi.ipi_spec_dst, o.source->bytes.data(), 4);
            add(SOL_IP, IP_PKTINFO, &pi, sizeof pi);
        }
    } else {
        if (o.ttl > 0) add(SOL_IPV6, IPV6_HOPLIMIT, &o.ttl, sizeof(int));
        if (o.tos >= 0) add(SOL_IPV6, IPV6_TCLASS, &o.tos, sizeof(int));
        if (o.source || o.ifindex) {
            in6_pktinfo pi{};
            pi.ipi6_ifindex = o.ifindex;
            if (o.source) std::memcpy(&pi.ipi6_addr, o.source->bytes.data(), 16);
            add(SOL_IPV6, IPV6_PKTINFO, &pi, sizeof pi);
        }
    }
    return control_len;  // at most 16 + 16 + 40 (IPv6 packet info): within 96
}

}  // namespace

int send_packet(int fd, const IpAddress& destination, std::uint16_t port,
                std::span<const std::uint8_t> packet, const PacketOptions& o) {
    sockaddr_storage dst;
    socklen_t dst_len = destination.to_sockaddr(port, dst);
    iovec iov{const_cast<std::uint8_t*>(packet.data()), packet.size()};
    msghdr msg{};
    msg.msg_name = &dst;
    msg.msg_namelen = dst_len;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) std::uint8_t control[96] = {};
    if (std::size_t control_len = write_options(destination.family, o, control)) {
        msg.msg_control = control;
        msg.msg_controllen = control_len;
    }
    return sendmsg(fd, &msg, 0) < 0 ? errno : 0;
}

void PacketSender::add(const IpAddress& destination, std::uint16_t port,
                       std::span<const std::uint8_t> packet, const PacketOptions& options,
                       std::uint64_t tag) {
    Entry& e = queued_.emplace_back();
    e.tag = tag;
    e.to = destination;
    e.port = port;
    e.options = options;
    e.destination_len = destination.to_sockaddr(port, e.destination);
    e.offset = bytes_.size();
    e.length = packet.size();
    bytes_.insert(bytes_.end(), packet.begin(), packet.end());
    std::memset(e.control, 0, sizeof e.control);
    e.control_len = write_options(destination.family, options, e.control);
    e.err = 0;
}

void PacketSender::send_all(int fd) {
    mmsghdr msgs[kBatch];
    iovec iovs[kBatch];
    for (std::size_t first = 0; first < sending_.size();) {
        const std::size_t n = std::min(kBatch, sending_.size() - first);
        for (std::size_t i = 0; i < n; ++i) {
            Entry& e = sending_[first + i];
            iovs[i] = iovec{sending_bytes_.data() + e.offset, e.length};
            msgs[i] = mmsghdr{};
            msgs[i].msg_hdr.msg_name = &e.destination;
            msgs[i].msg_hdr.msg_namelen = e.destination_len;
            msgs[i].msg_hdr.msg_iov = &iovs[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            if (e.control_len) {
                msgs[i].msg_hdr.msg_control = e.control;
                msgs[i].msg_hdr.msg_controllen = e.control_len;
            }
        }
        int sent = sendmmsg(fd, msgs, static_cast<unsigned>(n), 0);
        if (sent > 0) {
            first += static_cast<std::size_t>(sent);
        } else if (sent < 0 && errno == EINTR) {
            continue;
        } else {
            // The first packet of the batch failed (sendmmsg reports a later one's error only
            // by stopping short of it): it gets the errno, the rest are tried again.
            sending_[first].err = sent < 0 ? errno : EIO;
            ++first;
        }
    }
}

std::size_t PacketReceiver::load(std::span<const Incoming> batch, std::uint32_t drops) {
    const std::size_t n = std::min<std::size_t>(batch.size(), kBatch);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t len = std::min(batch[i].data.size(), sizeof buffers_[i]);
        std::memcpy(buffers_[i], batch[i].data.data(), len);
        Packet& p = packets_[i];
        p = Packet{};
        p.data = {buffers_[i], len};
        p.from = batch[i].from;
        p.rx_ns = batch[i].rx_ns;
        p.truncated = len < batch[i].data.size();
    }
    drops_ = drops;
    batch_drops_ = drops;
    return n;
}

std::size_t PacketReceiver::receive(int fd) {
    iovec iovs[kBatch];
    mmsghdr msgs[kBatch];
    for (unsigned i = 0; i < kBatch; ++i) {
        iovs[i] = iovec{buffers_[i], sizeof buffers_[i]};
        msgs[i].msg_hdr = msghdr{};
        msgs[i].msg_hdr.msg_name = &names_[i];
        msgs[i].msg_hdr.msg_namelen = sizeof names_[i];
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_control = controls_[i];
        msgs[i].msg_hdr.msg_controllen = sizeof controls_[i];
    }
    batch_drops_.reset();
    int n = recvmmsg(fd, msgs, kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) return 0;
    for (int i = 0; i < n; ++i) {
        Packet& p = packets_[i];
        p.rx_ns = 0;
        p.hop_limit = -1;
        p.ttl = -1;
        p.tos = -1;
        p.to.reset();
        p.truncated = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c;
             c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
            if (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_HOPLIMIT) {
                std::memcpy(&p.hop_limit, CMSG_DATA(c), sizeof p.hop_limit);
                p.ttl = p.hop_limit;
                continue;
            }
            if (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_TCLASS) {
                std::memcpy(&p.tos, CMSG_DATA(c), sizeof p.tos);
                continue;
            }
            if (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
                in6_pktinfo pi;
                std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
                p.to = IpAddress::from_in6(pi.ipi6_addr);
                continue;
            }
            if (c->cmsg_level == SOL_IP && c->cmsg_type == IP_TTL) {
                std::memcpy(&p.ttl, CMSG_DATA(c), sizeof p.ttl);
                continue;
            }
            if (c->cmsg_level == SOL_IP && c->cmsg_type == IP_TOS) {
                std::uint8_t tos;  // one byte here, unlike every other of these
                std::memcpy(&tos, CMSG_DATA(c), 1);
                p.tos = tos;
                continue;
            }
            if (c->cmsg_level == SOL_IP && c->cmsg_type == IP_PKTINFO) {
                in_pktinfo pi;
                std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
                p.to = IpAddress::from_in(pi.ipi_addr);
                continue;
            }
            if (c->cmsg_level != SOL_SOCKET) continue;
            if (c->cmsg_type == SO_TIMESTAMPNS) {
                timespec ts;
                std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
                p.rx_ns = std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
            } else if (c->cmsg_type == SO_RXQ_OVFL) {
                std::memcpy(&drops_, CMSG_DATA(c), sizeof drops_);
                batch_drops_ = drops_;
            }
        }
        const auto from = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&names_[i]));
        p.from = from ? std::optional(from->address) : std::nullopt;
        p.from_port = from ? from->port : 0;
        p.data = std::span<const std::uint8_t>(buffers_[i], msgs[i].msg_len);
    }
    return static_cast<std::size_t>(n);
}

}  // namespace fedprobe
