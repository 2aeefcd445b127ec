// The rules that read traces, apart from the sockets that make them: where and why a trace
// stopped, whether two traces are the same path, when a path change counts, how many distinct
// paths a round's flows took, and where forwarding loss (not ICMP rate limiting) begins.
// Pure functions and small value types; any thread.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/address.hpp"
#include "probes/path/path_kind.hpp"

namespace fedprobe {

// What one answer says about the path: a router on the way (time exceeded, packet too big),
// the destination itself, or a router that ends it. The probe (to stop sending past the end)
// and conclude_trace() read answers through this one rule.
enum class PathAnswer : std::uint8_t { hop, destination, unreachable, prohibited };
PathAnswer classify_answer(const PathAttempt& a, const IpAddress& destination);

// Fills in t's stop reason, stop TTL and hop, last answer and hash from its hops, and drops the
// hops after the stop. `destination` is the address probed; answers from it mean "reached".
void conclude_trace(FlowTrace& t, const IpAddress& destination, int gap_limit, int max_ttl);

// Outcome and reporter of a round, from flow 0's trace.
Outcome outcome_of(const FlowTrace& t);

// Where a blocked flow dies, read from a path:SERVICE trace of it: the last hop that answered
// (the reporter, when a router ended the path). ttl 0: nothing on the path answered.
struct BlockedAfter {
    int ttl = 0;
    std::optional<IpAddress> hop;
    std::string network;
    bool operator==(const BlockedAfter&) const = default;
};
// From flow 0; nullopt when that trace reached the destination (nothing on the path stops the
// flow now) or when there is no trace.
std::optional<BlockedAfter> blocked_after(const PathResult& result);
// "192.0.2.6 (surrey-psn), hop 4", or "no hop answered" for ttl 0: a table cell.
std::string where(const BlockedAfter& b);
// "after 192.0.2.6 (surrey-psn), hop 4", or "before any hop answered" for ttl 0: reads on from
// "filtered".
std::string describe(const BlockedAfter& b);

// The ordered hop list of a trace: an address per TTL, empty for a silent one.
using HopList = std::vector<std::optional<IpAddress>>;
HopList hop_list(const FlowTrace& t);
// Two traces are the same path unless some TTL answered in both, from different addresses.
// A TTL silent in one of them (a lost reply, a rate-limited router) is no difference.
bool same_path(const HopList& a, const HopList& b);
// How many distinct paths the flows took (grouping those that are the same path).
int distinct_paths(std::span<const FlowTrace> flows);

// Counts changes of one flow's path: a new path counts once it is seen in two consecutive
// rounds, so one lost or odd reply is never a change.
class PathChangeTracker {
  public:
    // True when this round confirms a change.
    bool observe(const HopList& path);
    const HopList& current() const { return current_; }

  private:
    HopList current_;
    std::optional<HopList> candidate_;
    bool have_current_ = false;
};

// The networks a trace crosses, in order: silent hops and hops in no declared network skipped,
// repeats folded ("kent-nhs", "interconnect", "psn-core", "kent-psn").
std::vector<std::string> network_list(const FlowTrace& t);
// Two network lists are the same path unless neither is a subsequence of the other: a network
// whose hops all stayed silent in one round is no difference.
bool same_networks(const std::vector<std::string>& a, const std::vector<std::string>& b);

// Counts changes of one flow's networks (traffic moving to a backup interconnect), apart from
// hop changes inside a network: only rounds that reached the destination count, and a new list
// counts once it is seen in two consecutive such rounds.
class NetworkPathTracker {
  public:
    // True when this round confirms a change.
    bool observe(const std::vector<std::string>& networks, bool reached);
    const std::vector<std::string>& current() const { return current_; }

  private:
    std::vector<std::string> current_;
    std::optional<std::vector<std::string>> candidate_;
    bool have_current_ = false;
};

// Forwarding loss as fbtracert reads it: hop by hop answer rates over recent rounds. A hop that
// answers less than the one before it while a later hop answers more is rate-limiting its ICMP;
// loss starts at TTL i only when every TTL from i to the destination answers less than i-1.
struct HopTally {
    std::uint32_t sent = 0;
    std::uint32_t answered = 0;
};
// `tallies[ttl-1]` up to the destination's TTL; -1 when there is no such TTL or the
// destination was not reached.
int forwarding_loss_from(std::span<const HopTally> tallies, bool reached);

// The last rounds' tallies of one flow, reset when its path changes.
class LossWindow {
  public:
    static constexpr std::size_t kRounds = 10;
    static constexpr std::size_t kMinRounds = 3;  // fewer say nothing either way
    void reset() { rounds_.clear(); }
    void add(const FlowTrace& t);
    // -1 for no forwarding loss (or too few rounds).
    int loss_from() const;

  private:
    struct Round {
        std::vector<HopTally> tallies;
        bool reached = false;
    };
    std::deque<Round> rounds_;
};

}  // namespace fedprobe
