#include "core/address.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace fedprobe {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
    std::string s(text);
    IpAddress a;
    if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
        a.family = AF_INET;
        return a;
    }
    if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
        a.family = AF_INET6;
        return a;
    }
    return std::nullopt;
}

IpAddress IpAddress::from_in(const in_addr& in) {
    IpAddress a;
    a.family = AF_INET;
    std::memcpy(a.bytes.data(), &in, 4);
    return a;
}

IpAddress IpAddress::from_in6(const in6_addr& in) {
    IpAddress a;
    a.family = AF_INET6;
    std::memcpy(a.bytes.data(), &in, 16);
    return a;
}

std::optional<IpAddress> IpAddress::from_sockaddr(const sockaddr* sa) {
    if (sa == nullptr) return std::nullopt;
    if (sa->sa_family == AF_INET)
        return from_in(reinterpret_cast<const sockaddr_in*>(sa)->sin_addr);
    if (sa->sa_family == AF_INET6)
        return from_in6(reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr);
    return std::nullopt;
}

std::optional<Endpoint> Endpoint::from_sockaddr(const sockaddr* sa) {
    auto address = IpAddress::from_sockaddr(sa);
    if (!address) return std::nullopt;
    const std::uint16_t port = sa->sa_family == AF_INET6
                                   ? reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port
                                   : reinterpret_cast<const sockaddr_in*>(sa)->sin_port;
    return Endpoint{*address, ntohs(port)};
}

std::string IpAddress::str() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (!valid() || inet_ntop(family, bytes.data(), buf, sizeof buf) == nullptr) return "";
    return buf;
}

socklen_t IpAddress::to_sockaddr(std::uint16_t port, sockaddr_storage& out) const {
    std::memset(&out, 0, sizeof out);
    if (family == AF_INET) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&out);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        std::memcpy(&sin->sin_addr, bytes.data(), 4);
        return sizeof(sockaddr_in);
    }
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    std::memcpy(&sin6->sin6_addr, bytes.data(), 16);
    return sizeof(sockaddr_in6);
}

namespace {

bool bit_at(const IpAddress& a, int i) {
    return (a.bytes[i / 8] >> (7 - i % 8)) & 1;
}

IpAddress masked(IpAddress a, int length) {
    for (int i = length; i < a.bits(); ++i)
        a.bytes[i / 8] &= static_cast<std::uint8_t>(~(0x80 >> (i % 8)));
    return a;
}

}  // namespace

std::optional<Prefix> Prefix::parse(std::string_view text) {
    auto slash = text.find('/');
    auto addr = IpAddress::parse(text.substr(0, slash));
    if (!addr) return std::nullopt;
    int length = addr->bits();
    if (slash != std::string_view::npos) {
        auto num = text.substr(slash + 1);
        auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), length);
        if (num.empty() || ec != std::errc() || end != num.data() + num.size()) return std::nullopt;
        if (length < 0 || length > addr->bits()) return std::nullopt;
    }
    return Prefix{masked(*addr, length), length};
}

bool Prefix::contains(const IpAddress& a) const {
    if (a.family != address.family) return false;
    for (int i = 0; i < length; ++i)
        if (bit_at(a, i) != bit_at(address, i)) return false;
    return true;
}

bool Prefix::overlaps(const Prefix& other) const {
    if (other.address.family != address.family) return false;
    return length <= other.length ? contains(other.address) : other.contains(address);
}

std::string Prefix::str() const {
    return address.str() + "/" + std::to_string(length);
}

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
    std::string_view host, port;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return std::nullopt;
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos) return std::nullopt;
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) return std::nullopt;  // v6 needs brackets
    }
    auto addr = IpAddress::parse(host);
    if (!addr) return std::nullopt;
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535)
        return std::nullopt;
    return Endpoint{*addr, static_cast<std::uint16_t>(value)};
}

std::string Endpoint::str() const {
    return address.host_str() + ":" + std::to_string(port);
}

}  // namespace fedprobe
