// idle:SERVICE — how long an idle TCP session to the service survives the stateful devices on
// the path, measured without sending any application data: the kind's declaration (see
// kind.hpp). The search is idle_search.hpp and the sessions are idle_probe.hpp.
//
// A round is a poll: it opens the sessions the search wants (each idle for its own time, at
// most `sessions` per target) and reports the bounds so far; the sessions outlive the round.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "core/duration.hpp"
#include "probes/kind.hpp"

namespace fedprobe {

struct IdleOptions {
    Duration min = std::chrono::seconds(30);
    // RFC 5382's least that an established session should survive: 2 h 4 min.
    Duration max = std::chrono::minutes(124);
    Duration interval = std::chrono::hours(6);  // re-verify converged bounds this often
    std::optional<Duration> required;           // what the application needs (MLLP: 1h)
    int sessions = 3;                           // in flight at once for this target
    friend bool operator==(const IdleOptions&, const IdleOptions&) = default;
};
using IdleParams = IdleOptions;

// How a session that was not alive ended; indices of IdleResult::cuts.
enum class IdleCut : std::uint8_t { silence, reset, server_closed };
inline constexpr std::array kAllIdleCuts = {IdleCut::silence, IdleCut::reset,
                                            IdleCut::server_closed};
std::string_view to_string(IdleCut c);

struct IdleResult {
    double lower = 0;  // the longest idle survived (s); 0: none yet
    double upper = 0;  // the shortest idle cut (s); +Inf: none yet
    std::array<std::uint64_t, kAllIdleCuts.size()> cuts{};  // running totals for the target
    std::uint32_t sessions_open = 0;
    std::optional<double> required;  // idle.required (s)
    bool converged = false;
};

struct IdleKind {
    static constexpr std::string_view kName = "idle";
    static constexpr ServiceUse kServices = ServiceUse::required;
    static constexpr std::array kTransports = {Transport::tcp};
    // A poll's outcome is that of the last session it opened (or the last before it).
    static constexpr std::array kOutcomes = {Outcome::ok,          Outcome::refused,
                                             Outcome::filtered,    Outcome::prohibited,
                                             Outcome::unreachable, Outcome::error};
    static constexpr bool kCommonDuration = false;
    // Its sessions: idle.sessions (3 by default, 16 at most) per job, 256 for all its jobs.
    static constexpr SocketUse kSockets = SocketUse{3, 0, 256};
    static constexpr IcmpUse kIcmp = IcmpUse::none;
    static constexpr bool kChecksServices = false;
    static constexpr std::array<FamilyInfo, 0> kProbeFamilies{};
    static constexpr std::array kFamilies = {
        FamilyInfo{"fedprobe_idle_timeout_lower_seconds",
                   "The longest idle time a session to the service survived (NaN: none yet)",
                   SeriesType::gauge},
        FamilyInfo{"fedprobe_idle_timeout_upper_seconds",
                   "The shortest idle time after which a session was cut (+Inf: none was)",
                   SeriesType::gauge},
        FamilyInfo{"fedprobe_idle_cuts_total",
                   "Idle sessions that were not alive at their time, by how: silence (the "
                   "keepalive went unanswered), reset, or server_closed (the server's own limit)",
                   SeriesType::counter},
        FamilyInfo{"fedprobe_idle_sessions_open", "Idle test sessions open now", SeriesType::gauge},
        FamilyInfo{"fedprobe_idle_timeout_below_required",
                   "1 when sessions are cut sooner than idle.required (only with it set)",
                   SeriesType::gauge},
        FamilyInfo{"fedprobe_idle_timeout_required_seconds", "idle.required as configured",
                   SeriesType::gauge},
    };
    using Options = IdleOptions;
    using Params = IdleParams;
    using Result = IdleResult;

    static Options parse(OptionReader& r, const KindUse& use);
    static std::string check(const KindUse&, const Options*) { return {}; }
    static Params params(const Options* o, JobContext&) { return o ? *o : IdleOptions{}; }
    static std::unique_ptr<Probe> make_probe(EventLoop& loop);
    static std::unique_ptr<KindSeries> make_series();
};

}  // namespace fedprobe
