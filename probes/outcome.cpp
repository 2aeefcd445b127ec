#include "probes/outcome.hpp"
#include "probes/probe.hpp"

#include <cerrno>

namespace fedprobe {

std::optional<Outcome> outcome_from_name(std::string_view name) {
    for (Outcome o : kAllOutcomes)
        if (to_string(o) == name) return o;
    return std::nullopt;
}

std::string_view to_string(Outcome o) {
    switch (o) {
        case Outcome::ok:
            return "ok";
        case Outcome::refused:
            return "refused";
        case Outcome::filtered:
            return "filtered";
        case Outcome::prohibited:
            return "prohibited";
        case Outcome::unreachable:
            return "unreachable";
        case Outcome::error:
            return "error";
        case Outcome::mismatch:
            return "mismatch";
        case Outcome::tls_error:
            return "tls_error";
        case Outcome::app_blocked:
            return "app_blocked";
    }
    return "error";
}

Outcome outcome_from_icmp4(std::uint8_t type, std::uint8_t code) {
    if (type == 3) {  // destination unreachable
        switch (code) {
            case 0:
            case 1:
            case 5:
            case 6:
            case 7:
            case 8:
            case 11:
            case 12:
                return Outcome::unreachable;  // net/host unreachable or unknown, no route for TOS
            case 2:
            case 3:
                return Outcome::refused;  // protocol/port unreachable: the target answered
            case 9:
            case 10:
            case 13:
                return Outcome::prohibited;  // administratively prohibited / filtered
            default:
                return Outcome::error;  // 4 (fragmentation needed) and the rest are not a verdict
                                        // on the flow
        }
    }
    if (type == 11) return Outcome::unreachable;  // TTL ran out: a loop or a too-small TTL
    return Outcome::error;
}

Outcome outcome_from_icmp6(std::uint8_t type, std::uint8_t code) {
    if (type == 1) {  // destination unreachable
        switch (code) {
            case 0:
            case 2:
            case 3:
                return Outcome::unreachable;  // no route, beyond scope, address unreachable
            case 1:
            case 5:
            case 6:
                return Outcome::prohibited;  // admin prohibited, policy, reject route
            case 4:
                return Outcome::refused;  // port unreachable
            default:
                return Outcome::error;
        }
    }
    if (type == 3) return Outcome::unreachable;  // time exceeded
    return Outcome::error;
}

Outcome outcome_from_errno(int err) {
    switch (err) {
        case 0:
            return Outcome::ok;
        case ECONNREFUSED:
            return Outcome::refused;
        case ENETUNREACH:
        case EHOSTUNREACH:
        case ENETDOWN:
        case EHOSTDOWN:
            return Outcome::unreachable;
        case EACCES:
        case EPERM:
            return Outcome::prohibited;  // the local firewall (nftables reject/drop on output)
        case ETIMEDOUT:
            return Outcome::filtered;
        default:
            return Outcome::error;
    }
}

std::string_view to_string(Overload o) {
    switch (o) {
        case Overload::late_start:
            return "late_start";
        case Overload::dropped_replies:
            return "dropped_replies";
        case Overload::queued:
            return "queued";
    }
    return "queued";
}

Outcome outcome_of(const QueuedError& e) {
    if (!e.from_icmp()) return outcome_from_errno(e.err);
    return e.icmp_v6() ? outcome_from_icmp6(e.type, e.code) : outcome_from_icmp4(e.type, e.code);
}

}  // namespace fedprobe
