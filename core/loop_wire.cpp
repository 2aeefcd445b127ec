#include "core/loop_wire.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <time.h>

#include <cerrno>
#include <cstring>

namespace fedprobe {

Result<int> LoopWire::open(int family, int type, int protocol, const SendOptions& send) {
    return open_probe_socket(family, type, protocol, send);
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
