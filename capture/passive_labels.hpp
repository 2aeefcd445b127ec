// What passive analysis attributes an address or a port to, so that its counts are bounded by
// the config and never by the wire: the federation's networks by their prefixes (longest match;
// where two networks declare the same space, this site's own first), "unknown" for any other
// address, and the TCP services of [services] by port, "other" for any other port.
// Built once per config and then read-only; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/address.hpp"
#include "federation/config.hpp"

namespace fedprobe {

class PassiveLabels {
  public:
    static PassiveLabels from_config(const Config& config);

    // Indices into networks() and services(); the last one of each is "unknown"/"other".
    std::uint16_t network_of(const IpAddress& address) const;
    std::uint16_t service_of(std::uint16_t tcp_port) const { return by_port_[tcp_port]; }
    const std::vector<std::string>& networks() const { return networks_; }
    const std::vector<std::string>& services() const { return services_; }
    // The same attribution: a reload that leaves these equal keeps a running capture.
    friend bool operator==(const PassiveLabels&, const PassiveLabels&) = default;

  private:
    struct Entry {
        Prefix prefix;
        std::uint16_t network;
        friend bool operator==(const Entry&, const Entry&) = default;
    };
    std::vector<Entry> prefixes_;  // by descending length; ties keep their order
    // The IPv4 ones again as masks, in the same order: a SYN's two lookups are most of what an
    // offline analysis spends on labels.
    struct V4 {
        std::uint32_t network, mask;
        std::uint16_t id;
        friend bool operator==(const V4&, const V4&) = default;
    };
    std::vector<V4> v4_;
    std::vector<std::string> networks_;
    std::vector<std::string> services_;
    std::vector<std::uint16_t> by_port_;  // 65,536 entries
};

}  // namespace fedprobe
