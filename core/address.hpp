// IP addresses and prefixes as the config and the probes see them.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fedprobe {

struct IpAddress {
    int family = AF_UNSPEC;                // AF_INET or AF_INET6
    std::array<std::uint8_t, 16> bytes{};  // v4 uses the first 4

    static std::optional<IpAddress> parse(std::string_view text);
    static std::optional<IpAddress> from_sockaddr(const sockaddr* sa);
    static IpAddress from_in(const in_addr& a);
    static IpAddress from_in6(const in6_addr& a);

    bool valid() const { return family == AF_INET || family == AF_INET6; }
    int bits() const { return family == AF_INET ? 32 : 128; }
    std::string str() const;
    // As a host in a URL or "host:port": v6 in brackets ("[2001:db8::1]"), v4 as it is.
    std::string host_str() const { return family == AF_INET6 ? "[" + str() + "]" : str(); }
    // Fills storage with this address and port; returns the length to pass to connect/sendto.
    socklen_t to_sockaddr(std::uint16_t port, sockaddr_storage& out) const;

    friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

struct Prefix {
    IpAddress address;  // host bits cleared
    int length = 0;

    // "10.0.0.0/8", "2001:db8::/32"; a bare address is a host prefix.
    static std::optional<Prefix> parse(std::string_view text);
    bool contains(const IpAddress& a) const;
    bool overlaps(const Prefix& other) const;
    std::string str() const;

    friend bool operator==(const Prefix&, const Prefix&) = default;
};

// "host:port" or "[v6]:port"; host must be a literal address.
struct Endpoint {
    IpAddress address;
    std::uint16_t port = 0;
    static std::optional<Endpoint> parse(std::string_view text);
    // An AF_INET/AF_INET6 socket address (from recvmsg, getsockname); nullopt for any other.
    static std::optional<Endpoint> from_sockaddr(const sockaddr* sa);
    std::string str() const;
    friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

}  // namespace fedprobe
