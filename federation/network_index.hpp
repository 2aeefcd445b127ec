// Attributes an address (e.g. the router that sent an ICMP error) to a configured network.
#pragma once

#include <string>
#include <vector>

#include "core/address.hpp"
#include "federation/config.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

class NetworkIndex : public NetworkNamer {
  public:
    void add(const Prefix& prefix, const std::string& network_id);
    // Longest-prefix match over every network's prefixes; "unknown" when none contains it.
    // With overlapping space (two networks with the same 10.x range), the longer prefix wins
    // and a tie goes to the network declared first.
    const std::string& lookup(const IpAddress& address) const override;

  private:
    struct Entry {
        Prefix prefix;
        std::string network;
    };
    std::vector<Entry> entries_;  // sorted by descending length, stable
};

// Every network's prefixes, this site's own first: where two networks declare the same space
// (10/8 behind NAT), an address in it seen from here is one of this site's own devices.
NetworkIndex network_index_for_site(const Config& config);

}  // namespace fedprobe
