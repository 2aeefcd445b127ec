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
    // The network whose address space numbers the link an interface sits on: the longest prefix
    // containing `address` that belongs to another network than lookup()'s. A border's uplink
    // address is often declared as its organisation's /32 inside its provider's range, and a
    // silent router beside it on that link is the provider's. "unknown" when none.
    const std::string& lookup_link(const IpAddress& address) const;

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
