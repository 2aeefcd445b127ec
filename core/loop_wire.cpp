#include "core/loop_wire.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

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

std::optional<QueuedError> LoopWire::read_error(int fd) {
    return read_error_queue(fd);
}

int LoopWire::pending_error(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
    return err;
}

void LoopWire::close(int fd) {
    ::close(fd);
}

}  // namespace fedprobe
