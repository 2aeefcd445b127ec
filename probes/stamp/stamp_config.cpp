// [targets.stamp]
#include "config/toml_reader.hpp"
#include "probes/stamp/stamp_kind.hpp"
#include "probes/stamp/stamp_packet.hpp"

namespace fedprobe {

StampOptions StampKind::parse(OptionReader& r, const KindUse&) {
    r.check_keys({"packets", "spacing", "port", "dscp", "padding", "auth_key_file", "ssid",
                  "timestamp", "reflector", "tlvs"});
    StampOptions o;
    if (auto v = r.integer("packets", 1, 1000)) o.packets = static_cast<int>(*v);
    if (auto d = r.duration("spacing")) {
        if (*d < std::chrono::milliseconds(1) || *d > std::chrono::seconds(10))
            r.error("spacing", r.where() + ": spacing must be between 1ms and 10s, not " +
                                   format_duration(*d));
        else
            o.spacing = *d;
    }
    if (auto v = r.integer("port", 1, 65535)) o.port = static_cast<int>(*v);
    if (auto v = r.integer("dscp", 0, 63)) o.dscp = static_cast<int>(*v);
    // A reply is as long as its test packet: padding past one Ethernet frame only measures
    // fragmentation.
    if (auto v = r.integer("padding", 0, 1400)) o.padding = static_cast<int>(*v);
    if (auto v = r.integer("ssid", 1, 65535)) o.ssid = static_cast<int>(*v);
    if (auto path = r.string("auth_key_file")) {
        o.auth_key_file = *path;
        auto key = read_stamp_key(*path);
        if (!key.ok())
            r.error("auth_key_file", r.where() + ": auth_key_file: " + key.status().message());
        else
            o.key = std::move(*key);
    }
    if (auto t = r.string("timestamp")) {
        if (*t == "ntp" || *t == "ptp")
            o.ptp = *t == "ptp";
        else
            r.error("timestamp",
                    r.where() + ": timestamp must be \"ntp\" or \"ptp\", not " + quote_excerpt(*t));
    }
    if (auto m = r.string("reflector")) {
        if (*m == "stateful" || *m == "stateless")
            o.stateful = *m == "stateful";
        else
            r.error("reflector", r.where() +
                                     ": reflector must be \"stateful\" or \"stateless\", "
                                     "not " +
                                     quote_excerpt(*m));
    }
    if (auto b = r.boolean("tlvs")) o.tlvs = *b;
    if (!o.tlvs && o.padding > 0)
        r.error("padding", r.where() + ": padding is an Extra Padding TLV, and tlvs = false");
    return o;
}

std::string StampKind::check(const KindUse& use, const StampOptions* o) {
    const StampOptions d = o ? *o : StampOptions{};
    if (use.interval <= Duration::zero()) return {};
    const Duration round = (d.packets - 1) * d.spacing + use.timeout;
    if (round < use.interval) return {};
    return "sends " + std::to_string(d.packets) + " packets " + format_duration(d.spacing) +
           " apart and waits the timeout " + format_duration(use.timeout) +
           " for the last reply: a round of " + format_duration(round) +
           " does not fit in the interval " + format_duration(use.interval) +
           "; lower stamp.packets or stamp.spacing, or raise the interval";
}

StampParams StampKind::params(const StampOptions* o, JobContext& c) {
    StampParams p = o ? *o : StampOptions{};
    // One SSID per sending site, so a reflector tells appliances apart behind the same NAT.
    // FNV-1a: the same on every build, so the number a reflector's admin sees stays put.
    if (p.ssid == 0) {
        std::uint32_t h = 2166136261u;
        for (unsigned char ch : c.site)
            h = (h ^ ch) * 16777619u;
        p.ssid = static_cast<int>(h % 65535) + 1;
    }
    c.port = static_cast<std::uint16_t>(p.port);
    return p;
}

}  // namespace fedprobe
