// [targets.icmp]
#include <sys/socket.h>

#include "config/toml_reader.hpp"
#include "probes/icmp/icmp_kind.hpp"

namespace fedprobe {

IcmpOptions IcmpKind::parse(OptionReader& r, const KindUse&) {
    IcmpOptions icmp;
    r.check_keys({"packets", "payload_bytes", "df", "ttl", "spacing"});
    if (auto v = r.integer("packets", 1, 100)) icmp.packets = static_cast<int>(*v);
    // 16 bytes carry fedprobe's token; 1472 keeps a v4 packet within a 1500 MTU unless asked.
    if (auto v = r.integer("payload_bytes", 16, 65000)) icmp.payload_bytes = static_cast<int>(*v);
    if (auto v = r.boolean("df")) icmp.dont_fragment = *v;
    if (auto v = r.integer("ttl", 1, 255)) icmp.ttl = static_cast<int>(*v);
    if (auto v = r.duration("spacing")) icmp.spacing = *v;
    return icmp;
}

bool sends_dont_fragment(const IcmpParams& icmp, int family) {
    if (icmp.dont_fragment) return *icmp.dont_fragment;
    constexpr int kIpv4Header = 20, kIcmpHeader = 8, kNeverFragmented = 576;  // RFC 791
    return family == AF_INET && kIpv4Header + kIcmpHeader + icmp.payload_bytes <= kNeverFragmented;
}

}  // namespace fedprobe
