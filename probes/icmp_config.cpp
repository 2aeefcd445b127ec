// [targets.icmp]
#include "config/toml_reader.hpp"
#include "probes/icmp_kind.hpp"

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

}  // namespace fedprobe
