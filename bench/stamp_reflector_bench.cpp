// The STAMP reflector's decision per packet (StampReflector::reflect, as the probing thread
// runs it) under a flood of spoofed one-packet sources, with the session table empty and with
// it full at max_sessions: the cost per packet and the ratio full / empty. Before the session
// table was a segmented LRU, a full table cost a scan of every session per packet (#32).
//   bench/stamp_reflector_bench [--max-sessions 1000000] [--packets 2000000]
#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/event_loop.hpp"
#include "probes/stamp/stamp_packet.hpp"
#include "probes/stamp/stamp_reflector.hpp"

using namespace fedprobe;

int main(int argc, char** argv) {
    std::size_t max_sessions = 1'000'000, packets = 2'000'000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--max-sessions"))
            max_sessions = std::strtoull(argv[i + 1], nullptr, 10);
        if (!std::strcmp(argv[i], "--packets")) packets = std::strtoull(argv[i + 1], nullptr, 10);
    }
    EventLoop loop;
    StampReflectorSettings s;
    s.allow = {*Prefix::parse("10.0.0.0/8")};
    s.rate_limit = 1e9;
    s.max_sessions = max_sessions;
    StampReflector refl(loop, s);
    StampSenderPacket p;
    p.ssid = 1;
    const auto bytes = encode(p, nullptr);
    const auto start = Clock::now();
    auto flood = [&](std::size_t from, std::size_t n) {
        const auto t0 = std::chrono::steady_clock::now();
        for (std::size_t i = from; i < from + n; ++i) {
            in_addr a{};
            a.s_addr = htonl(0x0a000000u | static_cast<std::uint32_t>(i & 0xffffff));
            const IpAddress src = IpAddress::from_in(a);
            StampArrival in{bytes,
                            src,
                            static_cast<std::uint16_t>(1024 + (i >> 24)),
                            *IpAddress::parse("10.255.0.1"),
                            862,
                            0,
                            64,
                            1'700'000'000'000'000'000};
            (void)refl.reflect(in, start + std::chrono::microseconds(i * 10));
        }
        return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0)
                   .count() /
               static_cast<double>(n);
    };
    const std::size_t n = std::min(packets, max_sessions);
    const double empty = flood(0, n / 10);  // the table filling: far from full
    flood(n / 10, max_sessions);            // now full
    const double full = flood(max_sessions * 2, packets);
    std::printf(
        "max_sessions %zu: %.0f ns a packet filling, %.0f ns a packet full (%zu sessions): "
        "full / empty %.2fx\n",
        max_sessions, empty, full, refl.sessions(), full / empty);
    return 0;
}
