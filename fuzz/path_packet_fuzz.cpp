// What a path probe's raw sockets receive: IPv4 packets, IPv6 payloads of each protocol, and
// the RFC 4884 extensions of ICMP errors, then the middlebox comparison of a quote with what
// was sent. The first byte picks the parser; for extensions the next two give the length.
#include <netinet/in.h>

#include <span>

#include "fuzz/fuzz_target.hpp"
#include "probes/path/path_middlebox.hpp"
#include "probes/path/path_packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 3) return 0;
    const std::span<const std::uint8_t> packet(data + 1, size - 1);
    std::optional<fedprobe::PathReply> reply;
    switch (data[0] % 5) {
        case 0:
            reply = fedprobe::parse_path_reply4(packet);
            break;
        case 1:
        case 2:
        case 3: {
            static const int kProtocols[] = {IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP};
            reply = fedprobe::parse_path_reply6(packet, kProtocols[data[0] % 5 - 1],
                                                *fedprobe::IpAddress::parse("2001:db8::1"), 60);
            break;
        }
        default: {
            const std::size_t length = std::size_t{data[1]} << 8 | data[2];
            (void)fedprobe::parse_icmp_extensions(packet.subspan(2), length);
            return 0;
        }
    }
    if (reply) {
        fedprobe::SentFields sent;
        (void)fedprobe::quote_changes(sent, *reply);
    }
    return 0;
}
