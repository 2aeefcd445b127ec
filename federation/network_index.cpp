#include "federation/network_index.hpp"

#include <algorithm>

namespace fedprobe {

void NetworkIndex::add(const Prefix& prefix, const std::string& network_id) {
    auto pos = std::upper_bound(entries_.begin(), entries_.end(), prefix.length,
                                [](int len, const Entry& e) { return len > e.prefix.length; });
    entries_.insert(pos, Entry{prefix, network_id});
}

const std::string& NetworkIndex::lookup(const IpAddress& address) const {
    static const std::string unknown = "unknown";
    for (const auto& e : entries_)
        if (e.prefix.contains(address)) return e.network;
    return unknown;
}

const std::string& NetworkIndex::lookup_link(const IpAddress& address) const {
    static const std::string unknown = "unknown";
    const std::string& own = lookup(address);
    for (const auto& e : entries_)
        if (e.network != own && e.prefix.contains(address)) return e.network;
    return unknown;
}

NetworkIndex network_index_for_site(const Config& config) {
    NetworkIndex index;
    if (const Network* own = config.network(config.settings.site))
        for (const auto& p : own->prefixes)
            index.add(p, own->id);
    for (const auto& net : config.networks)
        if (net.id != config.settings.site)
            for (const auto& p : net.prefixes)
                index.add(p, net.id);
    return index;
}

}  // namespace fedprobe
