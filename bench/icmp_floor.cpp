// The least CPU an ICMP prober can spend per echo on this machine's path: N addresses, one
// echo each per interval (56 bytes of payload and DF, as fedprobe and ping send), sent with
// sendmmsg in batches of 64 and the replies read with recvmmsg between batches, with no bookkeeping
// beyond counting. On loopback the kernel builds and delivers the reply in the sender's context, so
// this is mostly the kernel's own work, which no prober can avoid. icmp_daemon.py runs it beside
// `fedprobe run` and fping on the same addresses and rate, and prints the ratios.
//
// Usage: icmp_floor N INTERVAL_S SECONDS   (root or ping_group_range; 127.1.0.1 upwards only)
// Prints: sent=… received=… cpu_us_per_echo=… socket=raw|ping
#include <arpa/inet.h>
#include <netinet/in.h>
// linux/icmp.h, not netinet/ip_icmp.h: both define struct icmphdr; this one has ICMP_FILTER.
#include <linux/icmp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "probes/icmp/icmp_packet.hpp"

namespace {

constexpr int kBatch = 64;
constexpr std::size_t kPayload = 56;

// The same addresses as icmp_daemon.py's address(i): 127.1.0.1 upwards.
in_addr_t address(long i) {
    long n = i + 1;
    return htonl((127u << 24) | (static_cast<std::uint32_t>(1 + n / 65536) << 16) |
                 (static_cast<std::uint32_t>((n / 256) % 256) << 8) |
                 static_cast<std::uint32_t>(n % 256));
}

double cpu_seconds() {
    rusage u{};
    if (getrusage(RUSAGE_SELF, &u) != 0) {
        std::perror("getrusage");
        std::exit(1);
    }
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double now_s() {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: icmp_floor N INTERVAL_S SECONDS\n");
        return 2;
    }
    const long n = std::atol(argv[1]);
    const double interval = std::atof(argv[2]), seconds = std::atof(argv[3]);
    if (n <= 0 || n > 16'000'000 || interval <= 0 || seconds <= 0) {
        std::fprintf(stderr, "icmp_floor: N must be 1 to 16,000,000, INTERVAL_S and SECONDS > 0\n");
        return 2;
    }
    // As fedprobe: a ping socket where ping_group_range allows, a raw socket otherwise.
    bool raw = false;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_ICMP);
    if (fd < 0) {
        fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_ICMP);
        raw = true;
    }
    if (fd < 0) {
        std::perror("icmp_floor: socket");
        return 1;
    }
    if (raw) {
        icmp_filter filter{~(1u << ICMP_ECHOREPLY)};
        if (setsockopt(fd, SOL_RAW, ICMP_FILTER, &filter, sizeof filter) != 0) {
            std::perror("icmp_floor: ICMP_FILTER");
            return 1;
        }
    }
    // As fedprobe sends a small echo (icmp.df unset): DF without an IP ID, so the kernel skips
    // its shared ID generator for the request, as it does for fedprobe's.
    int pmtu = IP_PMTUDISC_PROBE;
    if (setsockopt(fd, SOL_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu) != 0) {
        std::perror("icmp_floor: IP_MTU_DISCOVER");
        return 1;
    }
    int rcvbuf = 8 << 20;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);  // best effort

    std::uint8_t packets[kBatch][8 + kPayload] = {};
    sockaddr_in to[kBatch] = {};
    iovec iov[kBatch];
    mmsghdr out[kBatch] = {};
    std::uint8_t in_buf[kBatch][1500];
    iovec in_iov[kBatch];
    mmsghdr in[kBatch] = {};
    for (int i = 0; i < kBatch; ++i) {
        to[i].sin_family = AF_INET;
        iov[i] = {packets[i], sizeof packets[i]};
        out[i].msg_hdr.msg_name = &to[i];
        out[i].msg_hdr.msg_namelen = sizeof to[i];
        out[i].msg_hdr.msg_iov = &iov[i];
        out[i].msg_hdr.msg_iovlen = 1;
        in_iov[i] = {in_buf[i], sizeof in_buf[i]};
        in[i].msg_hdr.msg_iov = &in_iov[i];
        in[i].msg_hdr.msg_iovlen = 1;
    }
    long sent = 0, received = 0;
    std::uint16_t seq = 0;
    auto drain = [&] {
        for (;;) {
            int got = recvmmsg(fd, in, kBatch, MSG_DONTWAIT, nullptr);
            if (got <= 0) return;
            received += got;
        }
    };
    const double rate = static_cast<double>(n) / interval;
    const double start = now_s();
    const double cpu0 = cpu_seconds();
    long next = 0;  // echoes sent so far, and the index of the next address
    // Wake when a full batch is due (between 1 and 100 ms, the daemon's own slack), so the
    // floor pays for as few wake-ups as a prober could.
    const long tick_ns = static_cast<long>(std::clamp(kBatch / rate, 0.001, 0.1) * 1e9);
    timespec tick{};
    clock_gettime(CLOCK_MONOTONIC, &tick);
    for (;;) {
        const double elapsed = now_s() - start;
        if (elapsed >= seconds) break;
        const long due = static_cast<long>(elapsed * rate);
        while (next < due) {
            int batch = static_cast<int>(std::min<long>(kBatch, due - next));
            for (int i = 0; i < batch; ++i) {
                // fedprobe's own request, marker and checksum included (a ping socket writes
                // its own id).
                ++seq;
                fedprobe::build_echo_request(packets[i], AF_INET, 0x4a17, seq, seq, 0, kPayload);
                to[i].sin_addr.s_addr = address((next + i) % n);
            }
            int done = sendmmsg(fd, out, static_cast<unsigned>(batch), 0);
            if (done <= 0) {
                if (errno == EAGAIN || errno == ENOBUFS) break;
                std::perror("icmp_floor: sendmmsg");
                return 1;
            }
            sent += done;
            next += done;
            drain();
        }
        drain();
        tick.tv_nsec += tick_ns;
        while (tick.tv_nsec >= 1'000'000'000) {
            tick.tv_nsec -= 1'000'000'000;
            ++tick.tv_sec;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &tick, nullptr);
    }
    usleep(100'000);  // the last replies
    drain();
    const double cpu = cpu_seconds() - cpu0;
    std::printf("sent=%ld received=%ld cpu_us_per_echo=%.2f socket=%s\n", sent, received,
                cpu * 1e6 / static_cast<double>(sent > 0 ? sent : 1), raw ? "raw" : "ping");
    close(fd);
    return 0;
}
