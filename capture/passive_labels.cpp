#include "capture/passive_labels.hpp"

#include <algorithm>

namespace fedprobe {

PassiveLabels PassiveLabels::from_config(const Config& config) {
    PassiveLabels l;
    for (const auto& n : config.networks)
        l.networks_.push_back(n.id);
    l.networks_.push_back("unknown");
    // The site's own prefixes first, so that in space two networks share (10/8 behind NAT) an
    // address seen here is one of this site's own, as NetworkIndex attributes ICMP reporters.
    for (int pass = 0; pass < 2; ++pass)
        for (std::size_t i = 0; i < config.networks.size(); ++i) {
            const Network& n = config.networks[i];
            if ((n.id == config.settings.site) != (pass == 0)) continue;
            for (const auto& p : n.prefixes)
                l.prefixes_.push_back(Entry{p, static_cast<std::uint16_t>(i)});
        }
    std::stable_sort(l.prefixes_.begin(), l.prefixes_.end(), [](const Entry& a, const Entry& b) {
        return a.prefix.length > b.prefix.length;
    });
    for (const auto& e : l.prefixes_) {
        if (e.prefix.address.family != AF_INET) continue;
        const auto& b = e.prefix.address.bytes;
        std::uint32_t net =
            std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3];
        std::uint32_t mask = e.prefix.length == 0 ? 0 : ~std::uint32_t{0} << (32 - e.prefix.length);
        l.v4_.push_back(V4{net & mask, mask, e.network});
    }
    // std::map order: where two services share a port, the first name alphabetically counts.
    for (const auto& [name, svc] : config.services)
        if (svc.transport == Transport::tcp) l.services_.push_back(name);
    l.services_.push_back("other");
    const auto other = static_cast<std::uint16_t>(l.services_.size() - 1);
    l.by_port_.assign(65536, other);
    std::uint16_t index = 0;
    for (const auto& [name, svc] : config.services) {
        if (svc.transport != Transport::tcp) continue;
        if (l.by_port_[svc.port] == other) l.by_port_[svc.port] = index;
        ++index;
    }
    return l;
}

std::uint16_t PassiveLabels::network_of(const IpAddress& address) const {
    if (address.family == AF_INET) {
        const auto& b = address.bytes;
        const std::uint32_t a =
            std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3];
        for (const auto& e : v4_)
            if ((a & e.mask) == e.network) return e.id;
        return static_cast<std::uint16_t>(networks_.size() - 1);
    }
    for (const auto& e : prefixes_)
        if (e.prefix.contains(address)) return e.network;
    return static_cast<std::uint16_t>(networks_.size() - 1);
}

}  // namespace fedprobe
