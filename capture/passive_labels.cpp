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
    for (const auto& e : prefixes_)
        if (e.prefix.contains(address)) return e.network;
    return static_cast<std::uint16_t>(networks_.size() - 1);
}

}  // namespace fedprobe
