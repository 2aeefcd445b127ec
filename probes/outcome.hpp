// One vocabulary for why a probe ended as it did, shared by every probe kind.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/socket.hpp"

namespace fedprobe {

enum class Outcome : std::uint8_t {
    ok,           // the service answered
    refused,      // the target itself said no: TCP RST, ICMP port/protocol unreachable
    filtered,     // silence until the timeout: dropped somewhere
    prohibited,   // a firewall rejected it: ICMP 3/9, 3/10, 3/13, ICMPv6 1/1
    unreachable,  // no route: ICMP 3/0, 3/1, ICMPv6 1/0, 1/3, time exceeded, local ENETUNREACH
    error,        // a local failure: no source address, socket error
    mismatch,     // the service answered, but not what this site should see (DNS, HTTP, UDP)
    tls_error,    // TCP connected, but the TLS handshake or certificate verification failed
    // TCP connected, then the application's first data was dropped (never acknowledged) or
    // reset by a device nearer than the server: the application-aware firewall's case.
    app_blocked,
};

inline constexpr std::array kAllOutcomes = {
    Outcome::ok,         Outcome::refused,     Outcome::filtered,
    Outcome::prohibited, Outcome::unreachable, Outcome::error,
    Outcome::mismatch,   Outcome::tls_error,   Outcome::app_blocked};

std::string_view to_string(Outcome o);
// The outcome of that name (as to_string gives it), or nullopt.
std::optional<Outcome> outcome_from_name(std::string_view name);

// ICMP errors as the kernel reports them (sock_extended_err) or as read from a raw socket.
Outcome outcome_from_icmp4(std::uint8_t type, std::uint8_t code);
Outcome outcome_from_icmp6(std::uint8_t type, std::uint8_t code);
// A failed connect()/send() with no ICMP error attached: the local stack's own verdict.
Outcome outcome_from_errno(int err);
// An error the kernel queued on a socket: from its ICMP type and code, or its errno.
Outcome outcome_of(const QueuedError& e);

}  // namespace fedprobe
