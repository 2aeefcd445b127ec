// ICMP and ICMPv6 as raw sockets, ping sockets and the error queue hand them over. The first
// byte picks the parser; the rest is the packet.
#include <netinet/in.h>

#include <span>

#include "fuzz/fuzz_target.hpp"
#include "probes/icmp/icmp_packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::span<const std::uint8_t> packet(data + 1, size - 1);
    switch (data[0] % 5) {
        case 0:
            (void)fedprobe::parse_icmp4(packet, true);
            break;
        case 1:
            (void)fedprobe::parse_icmp4(packet, false);
            break;
        case 2:
            (void)fedprobe::parse_icmp6(packet);
            break;
        case 3:
            (void)fedprobe::parse_quoted_request(packet, AF_INET);
            break;
        default:
            (void)fedprobe::parse_quoted_request(packet, AF_INET6);
            break;
    }
    (void)fedprobe::internet_checksum(packet);
    return 0;
}
