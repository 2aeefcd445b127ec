// Synthetic traffic for bench/capture_bench: TCP handshakes between the networks of
// bench/capture.toml, as the capture filter would let them through (SYN, SYN-ACK or RST, FINs,
// ICMP errors quoting SYNs), with a known mix of outcomes.
//
//   capture_gen file OUT.pcap PACKETS     writes a pcap (ns timestamps, 100,000 packets/s)
//   capture_gen live IFACE SECONDS        sends handshakes (a SYN and its SYN-ACK) as fast as
//                                         it can through an AF_PACKET socket on IFACE, then
//                                         prints how many frames it sent and in how long
//
// The live mode sends only inside the namespace the benchmark creates (a veth pair).
// Single-threaded; not part of fedprobe.
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Bytes = std::vector<std::uint8_t>;

// Clients and servers in the bench federation's networks (bench/capture.toml).
constexpr std::uint32_t kNets[] = {0x0a1f0000,   // kent-nhs 10.31.0.0/16
                                   0x0a0a0000,   // surrey-nhs 10.10.0.0/16
                                   0xc6336400,   // kent-psn 198.51.100.0/25
                                   0xc6336480,   // surrey-psn 198.51.100.128/25
                                   0xcb007100,   // brighton-psn 203.0.113.0/24
                                   0xc0000200};  // 192.0.2.0/24: in no network
constexpr std::uint16_t kPorts[] = {443, 2575, 104, 587, 3389, 8080};

std::uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
std::uint32_t rnd() {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return static_cast<std::uint32_t>(rng_state);
}

void put16(std::uint8_t* p, std::uint16_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
void put32(std::uint8_t* p, std::uint32_t v) {
    put16(p, static_cast<std::uint16_t>(v >> 16));
    put16(p + 2, static_cast<std::uint16_t>(v));
}

std::uint16_t checksum(const std::uint8_t* p, std::size_t n) {
    std::uint32_t s = 0;
    for (std::size_t i = 0; i + 1 < n; i += 2)
        s += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return static_cast<std::uint16_t>(~s);
}

// Ethernet + IPv4 + TCP (20 bytes, no options): 54 bytes.
Bytes tcp_frame(std::uint32_t src, std::uint32_t dst, std::uint16_t sport, std::uint16_t dport,
                std::uint32_t seq, std::uint32_t ack, std::uint8_t flags) {
    Bytes f(54, 0);
    std::memset(f.data(), 0x02, 12);
    put16(&f[12], 0x0800);
    std::uint8_t* ip = &f[14];
    ip[0] = 0x45;
    put16(ip + 2, 40);
    ip[8] = 64;
    ip[9] = IPPROTO_TCP;
    put32(ip + 12, src);
    put32(ip + 16, dst);
    put16(ip + 10, checksum(ip, 20));
    std::uint8_t* t = ip + 20;
    put16(t, sport);
    put16(t + 2, dport);
    put32(t + 4, seq);
    put32(t + 8, ack);
    t[12] = 0x50;
    t[13] = flags;
    put16(t + 14, 64240);
    return f;
}

// An ICMP destination unreachable from `router` quoting the first 28 bytes of `syn`.
Bytes icmp_frame(std::uint32_t router, const Bytes& syn, std::uint8_t code) {
    Bytes f(14 + 20 + 8 + 28, 0);
    std::memcpy(f.data(), syn.data(), 14);
    std::uint8_t* ip = &f[14];
    ip[0] = 0x45;
    put16(ip + 2, 20 + 8 + 28);
    ip[8] = 64;
    ip[9] = IPPROTO_ICMP;
    put32(ip + 12, router);
    std::memcpy(ip + 16, &syn[14 + 12], 4);  // back to the SYN's source
    put16(ip + 10, checksum(ip, 20));
    ip[20] = 3;
    ip[21] = code;
    std::memcpy(ip + 28, &syn[14], 28);
    return f;
}

std::uint32_t host_in(int net) {
    return kNets[net] | (1 + rnd() % 120);
}

// One handshake's frames and their offsets in ns from its SYN: 70% answered (then FINs both
// ways), 12% reset, 10% silent, 5% prohibited by ICMP, 3% answered after a retransmitted SYN.
void handshake(std::vector<std::pair<std::int64_t, Bytes>>& out) {
    int a = static_cast<int>(rnd() % 6), b = static_cast<int>(rnd() % 5);
    std::uint32_t c = host_in(a), s = host_in(b == a ? (b + 1) % 5 : b);
    auto cport = static_cast<std::uint16_t>(1024 + rnd() % 60000);
    std::uint16_t sport = kPorts[rnd() % 6];
    std::uint32_t isn = rnd(), sisn = rnd();
    Bytes syn = tcp_frame(c, s, cport, sport, isn, 0, 0x02);
    out.push_back({0, syn});
    unsigned kind = rnd() % 100;
    std::int64_t rtt = 200'000 + rnd() % 20'000'000;
    if (kind < 73) {
        std::int64_t at = rtt;
        if (kind >= 70) {
            out.push_back({1'000'000'000, syn});
            at += 1'000'000'000;
        }
        out.push_back({at, tcp_frame(s, c, sport, cport, sisn, isn + 1, 0x12)});
        out.push_back({at + 30'000'000, tcp_frame(c, s, cport, sport, isn + 1, sisn + 1, 0x11)});
        out.push_back(
            {at + 30'000'000 + rtt, tcp_frame(s, c, sport, cport, sisn + 1, isn + 2, 0x11)});
    } else if (kind < 85) {
        out.push_back({rtt, tcp_frame(s, c, sport, cport, 0, isn + 1, 0x14)});
    } else if (kind < 95) {
        // silence
    } else {
        out.push_back({rtt, icmp_frame(kNets[b] | 1, syn, 13)});
    }
}

int write_file(const char* path, std::uint64_t packets) {
    FILE* f = std::fopen(path, "wb");
    if (!f) {
        std::perror(path);
        return 1;
    }
    struct {
        std::uint32_t magic = 0xa1b23c4d;  // nanosecond timestamps
        std::uint16_t major = 2, minor = 4;
        std::int32_t zone = 0;
        std::uint32_t sigfigs = 0, snaplen = 65535, link = 1;
    } header;
    std::fwrite(&header, sizeof header, 1, f);
    // Handshakes start every 1/33,000 s (about 100,000 packets/s); their later frames wait in a
    // queue ordered by time, so the file is in capture order.
    std::vector<std::pair<std::int64_t, Bytes>> pending;  // a min-heap on time
    auto later = [](const auto& x, const auto& y) { return x.first > y.first; };
    std::int64_t now = 1'700'000'000LL * 1'000'000'000;
    std::uint64_t written = 0;
    std::vector<std::pair<std::int64_t, Bytes>> one;
    while (written < packets) {
        one.clear();
        handshake(one);
        for (auto& [offset, frame] : one) {
            pending.push_back({now + offset, std::move(frame)});
            std::push_heap(pending.begin(), pending.end(), later);
        }
        now += 30'303;
        while (!pending.empty() && pending.front().first <= now && written < packets) {
            std::pop_heap(pending.begin(), pending.end(), later);
            auto& [at, frame] = pending.back();
            std::uint32_t rec[4] = {static_cast<std::uint32_t>(at / 1'000'000'000),
                                    static_cast<std::uint32_t>(at % 1'000'000'000),
                                    static_cast<std::uint32_t>(frame.size()),
                                    static_cast<std::uint32_t>(frame.size())};
            std::fwrite(rec, sizeof rec, 1, f);
            std::fwrite(frame.data(), 1, frame.size(), f);
            pending.pop_back();
            ++written;
        }
    }
    if (std::fclose(f) != 0) {
        std::perror(path);
        return 1;
    }
    std::printf("%llu packets\n", static_cast<unsigned long long>(written));
    return 0;
}

int send_live(const char* iface, double seconds) {
    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    if (fd < 0) {
        std::perror("socket(AF_PACKET)");
        return 1;
    }
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = static_cast<int>(if_nametoindex(iface));
    to.sll_halen = 6;
    if (to.sll_ifindex == 0 || bind(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
        std::perror(iface);
        return 1;
    }
    // Batches of 32 handshakes as a mirror port sees them, a SYN and its SYN-ACK each: the n-th
    // from 10.31.(n / 64,512) port 1,024 + n % 64,512 to surrey-psn's 443, with ISN n.
    constexpr int kBatch = 64;
    std::vector<Bytes> frames;
    for (int i = 0; i < kBatch; i += 2) {
        frames.push_back(tcp_frame(kNets[0], kNets[3] | 20, 0, 443, 0, 0, 0x02));
        frames.push_back(tcp_frame(kNets[3] | 20, kNets[0], 443, 0, 7, 0, 0x12));
    }
    mmsghdr msgs[kBatch]{};
    iovec iov[kBatch];
    for (int i = 0; i < kBatch; ++i) {
        iov[i] = {frames[static_cast<std::size_t>(i)].data(),
                  frames[static_cast<std::size_t>(i)].size()};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    std::uint64_t sent = 0;
    auto start = std::chrono::steady_clock::now();
    auto end = start + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
        for (std::size_t i = 0; i < frames.size(); i += 2) {
            const std::uint64_t n = sent / 2 + i / 2;
            const std::uint32_t client =
                kNets[0] | static_cast<std::uint32_t>((n / 64512) & 0xffff);
            const auto port = static_cast<std::uint16_t>(1024 + n % 64512);
            std::uint8_t* syn = &frames[i][14];
            std::uint8_t* synack = &frames[i + 1][14];
            put32(syn + 12, client);
            put32(synack + 16, client);
            for (std::uint8_t* ip : {syn, synack}) {
                put16(ip + 10, 0);
                put16(ip + 10, checksum(ip, 20));
            }
            put16(syn + 20, port);
            put16(synack + 22, port);
            put32(syn + 24, static_cast<std::uint32_t>(n));
            put32(synack + 28, static_cast<std::uint32_t>(n + 1));
        }
        int n = sendmmsg(fd, msgs, kBatch, 0);
        if (n < 0) {
            if (errno == ENOBUFS) continue;
            std::perror("sendmmsg");
            return 1;
        }
        sent += static_cast<std::uint64_t>(n);
    }
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%llu %.3f\n", static_cast<unsigned long long>(sent), took);
    close(fd);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 4 && std::string(argv[1]) == "file")
        return write_file(argv[2], std::stoull(argv[3]));
    if (argc == 4 && std::string(argv[1]) == "live") return send_live(argv[2], std::stod(argv[3]));
    std::fprintf(stderr,
                 "usage: capture_gen file OUT.pcap PACKETS | capture_gen live IFACE SECONDS\n");
    return 2;
}
