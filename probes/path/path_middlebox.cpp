#include "probes/path/path_middlebox.hpp"

#include <netinet/in.h>

namespace fedprobe {

std::string_view to_string(MiddleboxChange c) {
    switch (c) {
        case MiddleboxChange::dscp:
            return "dscp";
        case MiddleboxChange::ecn:
            return "ecn";
        case MiddleboxChange::mss:
            return "mss";
        case MiddleboxChange::length:
            return "length";
        case MiddleboxChange::nat:
            return "nat";
        case MiddleboxChange::ttl:
            return "ttl";
    }
    return "?";
}

std::uint8_t quote_changes(const SentFields& sent, const PathReply& reply) {
    if (!reply.quote) return 0;
    const PathQuote& q = *reply.quote;
    std::uint8_t out = 0;
    if ((q.tos >> 2) != (sent.tos >> 2)) out |= bit(MiddleboxChange::dscp);
    if ((q.tos & 3) != (sent.tos & 3)) out |= bit(MiddleboxChange::ecn);
    if (sent.mss && q.mss && *q.mss != *sent.mss) out |= bit(MiddleboxChange::mss);
    // Some old stacks quote the length in host order: the same packet, not a change.
    const auto swapped = static_cast<std::uint16_t>(sent.ip_length << 8 | sent.ip_length >> 8);
    const bool length_differs = q.ip_length != sent.ip_length && q.ip_length != swapped;
    if (length_differs || q.fragment ||
        (sent.dont_fragment && !q.dont_fragment && sent.source.family == AF_INET))
        out |= bit(MiddleboxChange::length);
    if (!(q.source == sent.source)) out |= bit(MiddleboxChange::nat);
    const bool v4 = sent.source.family == AF_INET;
    const bool time_exceeded = v4 ? reply.type == 11 : reply.type == 3;
    if (time_exceeded && reply.quoted_ttl >= 0 && reply.quoted_ttl != 1)
        out |= bit(MiddleboxChange::ttl);
    return out;
}

std::vector<MiddleboxSeen> middlebox_changes(const FlowTrace& t) {
    std::vector<MiddleboxSeen> out;
    for (MiddleboxChange c : kAllMiddleboxChanges) {
        for (const auto& h : t.hops) {
            const PathAttempt* shows = nullptr;
            for (const auto& a : h.attempts)
                if (a.answered && (a.changes & bit(c))) shows = &a;
            if (!shows) continue;
            out.push_back(MiddleboxSeen{c, h.ttl, shows->from, h.network});
            break;
        }
    }
    return out;
}

}  // namespace fedprobe
