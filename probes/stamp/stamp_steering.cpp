#include "probes/stamp/stamp_steering.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace fedprobe {

namespace {

std::uint32_t word(const IpAddress& a, std::size_t i) {  // the i-th 32-bit word, host order
    const std::uint8_t* b = a.bytes.data() + 4 * i;
    return std::uint32_t(b[0]) << 24 | std::uint32_t(b[1]) << 16 | std::uint32_t(b[2]) << 8 | b[3];
}

}  // namespace

std::vector<sock_filter> stamp_steering_program(int family, std::span<const IpAddress> sources) {
    // The source address, read from the network header (the program sees the UDP payload).
    const std::uint32_t source_at = family == AF_INET ? 12 : 8;
    const std::size_t words = family == AF_INET ? 1 : 4;
    std::vector<sock_filter> p;
    std::size_t n = 0;
    for (const IpAddress& a : sources) {
        if (a.family != family || n == kMostSteeredSources) continue;
        ++n;
        // Per address: load and compare each word; a mismatch skips the rest of this block,
        // a match of the last word falls into "return 1". Jumps stay short, whatever the count.
        for (std::size_t w = 0; w < words; ++w) {
            const auto rest = static_cast<std::uint8_t>(2 * (words - w - 1) + 1);
            p.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                 static_cast<std::uint32_t>(SKF_NET_OFF + source_at + 4 * w)));
            p.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, word(a, w), 0, rest));
        }
        p.push_back(BPF_STMT(BPF_RET | BPF_K, 1));
    }
    if (p.empty()) return p;
    p.push_back(BPF_STMT(BPF_RET | BPF_K, 0));
    return p;
}

Status attach_stamp_steering(int fd, const std::vector<sock_filter>& program) {
    sock_fprog prog{static_cast<unsigned short>(program.size()),
                    const_cast<sock_filter*>(program.data())};
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog) != 0)
        return Status::from_errno("stamp reflector: SO_ATTACH_REUSEPORT_CBPF", errno);
    return {};
}

}  // namespace fedprobe
