#include "config/network_index.hpp"

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

}  // namespace fedprobe
