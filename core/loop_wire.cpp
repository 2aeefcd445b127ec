#include "core/loop_wire.hpp"

// net/if.h must precede anything that pulls in linux/if.h, or their definitions clash.
#include <net/if.h>

#include <ifaddrs.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <time.h>

#include <cerrno>
#include <cstring>

#include "core/raw_sockets.hpp"

namespace fedprobe {

Result<int> LoopWire::open(int family, int type, int protocol, const SendOptions& send) {
    return open_probe_socket(family, type, protocol, send);
}

namespace {

int icmp_protocol(int family) {
    return family == AF_INET ? int{IPPROTO_ICMP} : int{IPPROTO_ICMPV6};
}

}  // namespace

Result<int> LoopWire::open_icmp(int family, bool& raw) {
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, icmp_protocol(family));
    raw = false;
    if (fd < 0 && (errno == EACCES || errno == EPERM)) {
        fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, icmp_protocol(family));
        raw = true;
    }
    if (fd < 0)
        return Status::error(
            std::string("cannot open an ICMP socket (") + std::strerror(errno) +
            "): allow ping sockets with sysctl net.ipv4.ping_group_range or grant CAP_NET_RAW");
    return fd;
}

Result<int> LoopWire::open_raw_icmp(int family) {
    const int fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, icmp_protocol(family));
    if (fd < 0) return Status::from_errno("raw ICMP socket", errno);
    return fd;
}

Status LoopWire::prepare_icmp_reader(int fd, int family, bool raw) {
    Status st = enable_rx_timestamps(fd);
    if (st.ok()) st = enable_rx_overflow_count(fd);
    // Ping sockets learn of ICMP errors through the error queue; raw sockets read them directly.
    if (st.ok())
        st = raw ? pass_echo_replies_and_errors(fd, family) : enable_error_queue(fd, family);
    if (!st.ok()) return st;
    // Bursts of replies from many targets land at once; SO_RCVBUF is capped by rmem_max
    // (about 1,300 replies), so ask for more where CAP_NET_ADMIN allows.
    grow_receive_buffer(fd, 8 << 20);
    return st;
}

unsigned LoopWire::interface_index(const std::string& device) {
    return if_nametoindex(device.c_str());
}

// Checked only after a failed send, so it costs nothing on the hot path.
bool LoopWire::is_local_address(const IpAddress& a) {
    int fd = socket(a.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return true;  // cannot tell: do not blame the config
    sockaddr_storage ss;
    socklen_t len = a.to_sockaddr(0, ss);
    bool local = bind(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0 || errno != EADDRNOTAVAIL;
    ::close(fd);
    return local;
}

Result<int> LoopWire::open_raw_reader(int family, int protocol) {
    const int icmp = family == AF_INET ? int{IPPROTO_ICMP} : int{IPPROTO_ICMPV6};
    auto fd = raw_sockets::raw_socket(family, protocol);
    if (!fd.ok()) return fd;
    Status st = enable_rx_timestamps(*fd);
    if (st.ok()) st = enable_rx_overflow_count(*fd);
    if (st.ok() && family == AF_INET6) st = enable_rx_hop_limit(*fd);
    // IPv6 sends through these: never fragment an MTU probe locally, and size it against the
    // interface, not against what the kernel has learnt of the path.
    if (st.ok() && family == AF_INET6) st = fedprobe::set_dont_fragment(*fd, family, true);
    if (st.ok() && protocol == icmp) st = pass_echo_replies_and_errors(*fd, family);
    if (st.ok() && protocol == IPPROTO_TCP) st = raw_sockets::filter_syn_or_rst(*fd, family);
    if (!st.ok()) {
        ::close(*fd);
        return st;
    }
    grow_receive_buffer(*fd, 4 << 20);
    return fd;
}

Result<int> LoopWire::open_raw_sender(int family, int protocol, const std::string& device) {
    auto fd = raw_sockets::raw_socket(family, family == AF_INET ? int{IPPROTO_RAW} : protocol);
    if (!fd.ok()) return fd;
    Status st = raw_sockets::filter_all(*fd);
    if (st.ok() && family == AF_INET) st = fedprobe::set_dont_fragment(*fd, family, true);
    if (st.ok() && !device.empty() &&
        setsockopt(*fd, SOL_SOCKET, SO_BINDTODEVICE, device.c_str(),
                   static_cast<socklen_t>(device.size())) != 0)
        st = Status::from_errno("SO_BINDTODEVICE " + device, errno);
    if (!st.ok()) {
        ::close(*fd);
        return st;
    }
    return fd;
}

Result<std::pair<int, std::uint16_t>> LoopWire::hold_port(int family, int type) {
    return raw_sockets::hold_port(family, type);
}

Result<IpAddress> LoopWire::route_source(const IpAddress& destination, const std::string& device) {
    return raw_sockets::route_source(destination, device);
}

int LoopWire::send_to(int fd, const IpAddress& destination, std::span<const std::uint8_t> packet) {
    sockaddr_storage ss;
    const socklen_t sl = destination.to_sockaddr(0, ss);
    return ::sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&ss), sl) < 0
               ? errno
               : 0;
}

namespace {

int device_mtu(const std::string& name) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    const int rc = ioctl(fd, SIOCGIFMTU, &ifr);
    ::close(fd);
    return rc == 0 ? ifr.ifr_mtu : 0;
}

}  // namespace

// The interface's, not the route's: the route's includes what the kernel learnt from
// packet-too-big.
int LoopWire::interface_mtu(const IpAddress& source, const std::string& device) {
    if (!device.empty()) return device_mtu(device);
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return 0;
    std::string name;
    for (ifaddrs* i = list; i && name.empty(); i = i->ifa_next) {
        if (!i->ifa_addr) continue;
        auto a = IpAddress::from_sockaddr(i->ifa_addr);
        if (a && *a == source) name = i->ifa_name;
    }
    freeifaddrs(list);
    return name.empty() ? 0 : device_mtu(name);
}

int LoopWire::connect(int fd, const IpAddress& to, std::uint16_t port) {
    sockaddr_storage ss;
    const socklen_t len = to.to_sockaddr(port, ss);
    return ::connect(fd, reinterpret_cast<sockaddr*>(&ss), len);
}

ssize_t LoopWire::send(int fd, std::span<const std::uint8_t> bytes) {
    // MSG_NOSIGNAL: a stream the peer closed is an EPIPE to report, never a SIGPIPE.
    return ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
}

ssize_t LoopWire::receive(int fd, std::span<std::uint8_t> into) {
    return ::recv(fd, into.data(), into.size(), 0);
}

ssize_t LoopWire::receive_stamped(int fd, std::span<std::uint8_t> into, std::int64_t& rx_ns) {
    iovec iov{into.data(), into.size()};
    alignas(cmsghdr) std::uint8_t control[CMSG_SPACE(sizeof(timespec))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    rx_ns = 0;
    const ssize_t n = ::recvmsg(fd, &msg, 0);
    if (n < 0) return n;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
        timespec ts;
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        rx_ns = std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
    }
    return n;
}

std::optional<Endpoint> LoopWire::local_endpoint(int fd) {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return std::nullopt;
    return Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss));
}

std::optional<QueuedError> LoopWire::read_error(int fd) {
    return read_error_queue(fd);
}

int LoopWire::pending_error(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
    return err;
}

Status LoopWire::set_keepalive(int fd, int idle_s, int interval_s, int count) {
    const int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof idle_s) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_s, sizeof interval_s) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count) != 0)
        return Status::from_errno("setsockopt(keepalive)", errno);
    return Status();
}

std::optional<Duration> LoopWire::since_last_ack(int fd) {
    tcp_info info{};
    socklen_t len = sizeof info;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
        info.tcpi_state != TCP_ESTABLISHED)
        return std::nullopt;
    return std::chrono::milliseconds(info.tcpi_last_ack_recv);
}

void LoopWire::close(int fd) {
    ::close(fd);
}

}  // namespace fedprobe
