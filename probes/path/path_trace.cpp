#include "probes/path/path_trace.hpp"

#include <algorithm>

namespace fedprobe {

PathAnswer classify_answer(const PathAttempt& a, const IpAddress& destination) {
    if (!a.icmp || (a.from && *a.from == destination)) return PathAnswer::destination;
    const bool v4 = destination.family == AF_INET;
    const std::uint8_t t = a.icmp_type, c = a.icmp_code;
    if (v4 ? t == 0 : t == 129) return PathAnswer::destination;  // echo reply (NAT: another source)
    if (v4 ? t == 11 : t == 3) return PathAnswer::hop;           // time exceeded
    if (!v4 && t == 2) return PathAnswer::hop;                   // packet too big: a hop on the way
    if (v4 && t == 3)
        return c == 9 || c == 10 || c == 13 ? PathAnswer::prohibited : PathAnswer::unreachable;
    if (!v4 && t == 1) return c == 1 ? PathAnswer::prohibited : PathAnswer::unreachable;
    return PathAnswer::unreachable;  // parameter problem and the like: the packet goes no further
}

int PathHop::answered() const {
    return static_cast<int>(std::count_if(attempts.begin(), attempts.end(),
                                          [](const PathAttempt& a) { return a.answered; }));
}

namespace {

const PathAttempt* first_answer(const PathHop& h) {
    for (const auto& a : h.attempts)
        if (a.answered) return &a;
    return nullptr;
}

std::uint64_t hash_hops(const std::vector<PathHop>& hops) {
    std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
    auto mix = [&h](std::uint8_t b) {
        h ^= b;
        h *= 0x100000001b3ull;
    };
    for (const auto& hop : hops) {
        mix(static_cast<std::uint8_t>(hop.ttl));
        if (!hop.address) {
            mix(0);
            continue;
        }
        mix(static_cast<std::uint8_t>(hop.address->family));
        for (int i = 0; i < hop.address->bits() / 8; ++i)
            mix(hop.address->bytes[static_cast<std::size_t>(i)]);
    }
    return h & ((std::uint64_t{1} << 53) - 1);  // exact in a float64 sample
}

}  // namespace

void conclude_trace(FlowTrace& t, const IpAddress& destination, int gap_limit, int max_ttl) {
    int gap = 0;
    int last = 0;
    bool stopped = false;
    std::size_t keep = t.hops.size();
    for (std::size_t i = 0; i < t.hops.size() && !stopped; ++i) {
        PathHop& hop = t.hops[i];
        const PathAttempt* a = first_answer(hop);
        hop.address = a ? a->from : std::nullopt;
        hop.rtt = a ? a->rtt : Duration{};
        if (!a) {
            if (++gap >= gap_limit) {
                t.stop = PathStop::silent;
                keep = i + 1;
                stopped = true;
            }
            continue;
        }
        const PathAnswer kind = classify_answer(*a, destination);
        hop.destination = kind == PathAnswer::destination;
        gap = 0;
        last = hop.ttl;
        keep = i + 1;
        switch (kind) {
            case PathAnswer::destination:
                t.stop = PathStop::reached;
                stopped = true;
                break;
            case PathAnswer::unreachable:
                t.stop = PathStop::unreachable;
                stopped = true;
                break;
            case PathAnswer::prohibited:
                t.stop = PathStop::prohibited;
                stopped = true;
                break;
            default:
                break;
        }
        if (stopped || !hop.address) continue;
        // A loop: this router answered before, with another router answering in between.
        for (std::size_t j = 0; j + 1 < i; ++j) {
            if (t.hops[j].address != hop.address) continue;
            bool other = false;
            for (std::size_t k = j + 1; k < i; ++k)
                other |= t.hops[k].address && t.hops[k].address != hop.address;
            if (other) {
                t.stop = PathStop::loop;
                stopped = true;
                break;
            }
        }
    }
    if (!stopped) {
        // Ran out of TTLs to try: at max_ttl, or with fewer silent ones than the gap limit.
        const int sent = t.hops.empty() ? 0 : t.hops.back().ttl;
        t.stop = sent >= max_ttl ? PathStop::max_ttl : PathStop::silent;
    }
    t.hops.resize(keep);
    t.last_answer_ttl = last;
    const bool at_last =
        t.stop == PathStop::silent || t.stop == PathStop::max_ttl;  // the flow dies after it
    t.stop_ttl = at_last ? last : t.hops.empty() ? 0 : t.hops.back().ttl;
    t.stop_hop =
        t.stop_ttl > 0 ? t.hops[static_cast<std::size_t>(t.stop_ttl - 1)].address : std::nullopt;
    t.hash = hash_hops(t.hops);
}

Outcome outcome_of(const FlowTrace& t) {
    switch (t.stop) {
        case PathStop::reached:
            return Outcome::ok;
        case PathStop::prohibited:
            return Outcome::prohibited;
        case PathStop::unreachable:
        case PathStop::loop:
            return Outcome::unreachable;
        case PathStop::silent:
        case PathStop::max_ttl:
            return Outcome::filtered;
    }
    return Outcome::error;
}

HopList hop_list(const FlowTrace& t) {
    HopList out;
    out.reserve(t.hops.size());
    for (const auto& h : t.hops)
        out.push_back(h.address);
    return out;
}

bool same_path(const HopList& a, const HopList& b) {
    const std::size_t n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i)
        if (a[i] && b[i] && *a[i] != *b[i]) return false;
    return true;
}

int distinct_paths(std::span<const FlowTrace> flows) {
    std::vector<HopList> seen;
    for (const auto& f : flows) {
        HopList h = hop_list(f);
        if (std::none_of(seen.begin(), seen.end(),
                         [&](const HopList& s) { return same_path(s, h); }))
            seen.push_back(std::move(h));
    }
    return static_cast<int>(seen.size());
}

bool PathChangeTracker::observe(const HopList& path) {
    if (!have_current_) {
        current_ = path;
        have_current_ = true;
        return false;
    }
    if (same_path(current_, path)) {
        candidate_.reset();
        // Keep what this round learned about TTLs that were silent before.
        if (path.size() >= current_.size()) current_.resize(path.size());
        for (std::size_t i = 0; i < path.size(); ++i)
            if (path[i]) current_[i] = path[i];
        return false;
    }
    if (candidate_ && same_path(*candidate_, path)) {
        current_ = path;
        candidate_.reset();
        return true;
    }
    candidate_ = path;
    return false;
}

std::vector<std::string> network_list(const FlowTrace& t) {
    std::vector<std::string> out;
    for (const auto& h : t.hops) {
        if (!h.address || h.network.empty()) continue;
        if (out.empty() || out.back() != h.network) out.push_back(h.network);
    }
    return out;
}

namespace {
bool subsequence(const std::vector<std::string>& small, const std::vector<std::string>& big) {
    std::size_t i = 0;
    for (const auto& n : big)
        if (i < small.size() && small[i] == n) ++i;
    return i == small.size();
}
}  // namespace

bool same_networks(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    return subsequence(a, b) || subsequence(b, a);
}

bool NetworkPathTracker::observe(const std::vector<std::string>& networks, bool reached) {
    if (!reached) return false;
    if (!have_current_) {
        current_ = networks;
        have_current_ = true;
        return false;
    }
    if (same_networks(current_, networks)) {
        candidate_.reset();
        if (networks.size() > current_.size()) current_ = networks;  // the fuller view
        return false;
    }
    if (candidate_ && same_networks(*candidate_, networks)) {
        current_ = networks.size() >= candidate_->size() ? networks : *candidate_;
        candidate_.reset();
        return true;
    }
    candidate_ = networks;
    return false;
}

int forwarding_loss_from(std::span<const HopTally> tallies, bool reached) {
    if (!reached || tallies.size() < 2) return -1;
    auto rate = [&](std::size_t i) {
        return tallies[i].sent ? double(tallies[i].answered) / tallies[i].sent : 0.0;
    };
    for (std::size_t i = 1; i < tallies.size(); ++i) {
        if (tallies[i - 1].sent == 0 || rate(i - 1) == 0) continue;
        bool all_lower = true;
        for (std::size_t j = i; j < tallies.size() && all_lower; ++j)
            all_lower = tallies[j].sent > 0 && rate(j) < rate(i - 1);
        if (all_lower) return static_cast<int>(i) + 1;
    }
    return -1;
}

void LossWindow::add(const FlowTrace& t) {
    Round r;
    r.reached = t.stop == PathStop::reached;
    for (const auto& h : t.hops) {
        HopTally tally;
        tally.sent = static_cast<std::uint32_t>(h.attempts.size());
        tally.answered = static_cast<std::uint32_t>(h.answered());
        r.tallies.push_back(tally);
    }
    rounds_.push_back(std::move(r));
    if (rounds_.size() > kRounds) rounds_.pop_front();
}

int LossWindow::loss_from() const {
    if (rounds_.size() < kMinRounds) return -1;
    // Over the rounds that reached the destination, up to its (shortest) TTL.
    std::size_t length = 0;
    for (const auto& r : rounds_)
        if (r.reached) length = length ? std::min(length, r.tallies.size()) : r.tallies.size();
    if (length == 0) return -1;
    std::vector<HopTally> sum(length);
    for (const auto& r : rounds_)
        for (std::size_t i = 0; i < length && i < r.tallies.size(); ++i) {
            sum[i].sent += r.tallies[i].sent;
            sum[i].answered += r.tallies[i].answered;
        }
    return forwarding_loss_from(sum, true);
}

std::optional<BlockedAfter> blocked_after(const PathResult& result) {
    if (result.flows.empty()) return std::nullopt;
    const FlowTrace& t = result.flows.front();
    if (t.stop == PathStop::reached) return std::nullopt;
    BlockedAfter b;
    b.ttl = t.stop_ttl;
    if (t.stop_ttl > 0) {
        b.hop = t.stop_hop;
        b.network = t.stop_network;
    }
    return b;
}

std::string where(const BlockedAfter& b) {
    if (b.ttl == 0 || !b.hop) return "no hop answered";
    return b.hop->str() + " (" + (b.network.empty() ? "unknown network" : b.network) + "), hop " +
           std::to_string(b.ttl);
}

std::string describe(const BlockedAfter& b) {
    return b.ttl == 0 || !b.hop ? "before any hop answered" : "after " + where(b);
}

}  // namespace fedprobe
