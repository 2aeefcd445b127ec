#include "core/raw_sockets.hpp"

#include <linux/filter.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace fedprobe::raw_sockets {

// Raw TCP sockets see every segment the host receives: keep only SYN or RST ones (answers to
// SYN probes), in the kernel. IPv4 raw sockets start at the IP header, IPv6 ones at TCP's.
Status filter_syn_or_rst(int fd, int family) {
    std::vector<sock_filter> code;
    if (family == AF_INET) {
        code = {
            BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),  // x = IP header length
            BPF_STMT(BPF_LD | BPF_B | BPF_IND, 13),  // a = TCP flags
            BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x06, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, 0xffff),
            BPF_STMT(BPF_RET | BPF_K, 0),
        };
    } else {
        code = {
            BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),
            BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x06, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, 0xffff),
            BPF_STMT(BPF_RET | BPF_K, 0),
        };
    }
    sock_fprog prog{static_cast<unsigned short>(code.size()), code.data()};
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0)
        return Status::from_errno("SO_ATTACH_FILTER", errno);
    return {};
}

// A socket that only holds a port or sends: whatever reaches it is dropped in the kernel.
Status filter_all(int fd) {
    sock_filter code[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
    sock_fprog prog{1, code};
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0)
        return Status::from_errno("SO_ATTACH_FILTER", errno);
    return {};
}

Result<int> raw_socket(int family, int protocol) {
    int fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0)
        return Status::error(std::string("cannot open a raw socket for path probes (") +
                             std::strerror(errno) + "): they need CAP_NET_RAW");
    return fd;
}

// The source address the kernel would use towards `destination` (a connected UDP socket's).
Result<IpAddress> route_source(const IpAddress& destination, const std::string& device) {
    int fd = socket(destination.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Status::from_errno("socket", errno);
    if (!device.empty() && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device.c_str(),
                                      static_cast<socklen_t>(device.size())) != 0) {
        int e = errno;
        close(fd);
        return Status::from_errno("SO_BINDTODEVICE " + device, e);
    }
    sockaddr_storage ss;
    socklen_t len = destination.to_sockaddr(33434, ss);
    if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
        int e = errno;
        close(fd);
        return Status::from_errno("no route to " + destination.str(), e);
    }
    len = sizeof ss;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
        int e = errno;
        close(fd);
        return Status::from_errno("getsockname", e);
    }
    close(fd);
    auto a = IpAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&ss));
    if (!a) return Status::error("no source address towards " + destination.str());
    return *a;
}

// Binds a socket of `type` to an ephemeral port on every address, so the port is ours.
Result<std::pair<int, std::uint16_t>> hold_port(int family, int type) {
    int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Status::from_errno("socket", errno);
    sockaddr_storage ss{};
    ss.ss_family = static_cast<sa_family_t>(family);
    socklen_t len = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    Status st;
    if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0)
        st = Status::from_errno("bind(source port)", errno);
    if (st.ok() && type == SOCK_DGRAM) st = filter_all(fd);
    if (st.ok() && getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
        st = Status::from_errno("getsockname", errno);
    if (!st.ok()) {
        close(fd);
        return st;
    }
    std::uint16_t port = family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port)
                                           : ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
    return std::make_pair(fd, port);
}

}  // namespace fedprobe::raw_sockets
