#include "probes/socket_errors.hpp"

#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "config/config.hpp"

namespace fedprobe {

bool QueuedError::from_icmp() const {
    return origin == SO_EE_ORIGIN_ICMP || origin == SO_EE_ORIGIN_ICMP6;
}

Outcome QueuedError::outcome() const {
    if (origin == SO_EE_ORIGIN_ICMP) return outcome_from_icmp4(type, code);
    if (origin == SO_EE_ORIGIN_ICMP6) return outcome_from_icmp6(type, code);
    return outcome_from_errno(err);
}

int enable_error_queue(int fd, int family) {
    int on = 1;
    int rc = family == AF_INET ? setsockopt(fd, SOL_IP, IP_RECVERR, &on, sizeof on)
                               : setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &on, sizeof on);
    return rc == 0 ? 0 : errno;
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
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        bool v4 = c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR;
        bool v6 = c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR;
        if (!v4 && !v6) continue;
        sock_extended_err ee;
        std::memcpy(&ee, CMSG_DATA(c), sizeof ee);
        QueuedError out;
        out.err = static_cast<int>(ee.ee_errno);
        out.origin = ee.ee_origin;
        out.type = ee.ee_type;
        out.code = ee.ee_code;
        // SO_EE_OFFENDER: the sockaddr stored right after the sock_extended_err.
        const auto* offender =
            reinterpret_cast<const sockaddr*>(CMSG_DATA(c) + sizeof(sock_extended_err));
        if (offender->sa_family != AF_UNSPEC) out.offender = IpAddress::from_sockaddr(offender);
        out.quoted.assign(data, data + (n > 0 ? n : 0));
        return out;
    }
    return std::nullopt;
}

int apply_send_options(int fd, int family, const SendOptions& send, const char*& what) {
    if (!send.device.empty()) {
        what = "SO_BINDTODEVICE";
        if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, send.device.c_str(),
                       static_cast<socklen_t>(send.device.size())) != 0)
            return errno;
    }
    if (send.dscp >= 0) {
        int tos = send.dscp << 2;
        what = family == AF_INET ? "IP_TOS" : "IPV6_TCLASS";
        int rc = family == AF_INET ? setsockopt(fd, SOL_IP, IP_TOS, &tos, sizeof tos)
                                   : setsockopt(fd, SOL_IPV6, IPV6_TCLASS, &tos, sizeof tos);
        if (rc != 0) return errno;
    }
    if (send.source) {
        what = "bind(source)";
        sockaddr_storage ss;
        socklen_t len = send.source->to_sockaddr(0, ss);
        if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) return errno;
    }
    return 0;
}

int open_probe_socket(int family, int type, int protocol, const SendOptions& send,
                      std::string& error) {
    int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0) {
        error = std::string("socket: ") + std::strerror(errno);
        return -1;
    }
    const char* what = "IP_RECVERR";
    int err = enable_error_queue(fd, family);
    if (err == 0) err = apply_send_options(fd, family, send, what);
    if (err != 0) {
        close(fd);
        error = std::string(what) + ": " + std::strerror(err);
        return -1;
    }
    return fd;
}

}  // namespace fedprobe
