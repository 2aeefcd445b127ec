// What every probe kind declares, in one place, and the compiler's check that it did.
//
// A kind is a struct of static members (see icmp_kind.hpp for a whole one):
//   kName, kServices, kTransports   its name in `probes = [...]` and the services it accepts
//   kOutcomes                       the outcomes it reports (their counters always exist)
//   kCommonDuration                 whether fedprobe_probe_duration_seconds suits it
//   kSockets                        the descriptors a job of it holds while a round runs
//   kIcmp                           how it needs ICMP through the borders it crosses
//   kChecksServices                 whether it can be a service's `check` (application layer)
//   kFamilies                       the series families it renders beyond the common ones
//   kProbeFamilies                  counters its probe keeps outside any job (Probe::totals)
//   Options                         its [targets.KIND] table, as parse() reads it
//   Params                          what one job asks of the probe, as this site sees the target
//   Result                          what the probe saw beyond the common result
//   parse, check, params            config keys -> Options -> Params
//   make_probe, make_series         its probe on the engine's loop, one job's series
// The table of kinds is probes/kinds.hpp; adding a kind is its own files plus one line there.
// Declarations only: any thread.
#pragma once

#include <array>
#include <concepts>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/address.hpp"
#include "core/duration.hpp"
#include "probes/outcome.hpp"
#include "probes/series.hpp"
#include "probes/service.hpp"

namespace fedprobe {

class EventLoop;
class OptionReader;
class Probe;

enum class ServiceUse { none, optional, required };

// The descriptors one job of a kind holds while its round runs, for the daemon's plan of
// RLIMIT_NOFILE (daemon/fd_limit.cpp): sockets drawn from the probes' budget (tcp, udp and
// http open one per attempt), and sockets of the job's own outside it (dns). Kinds that share a
// few sockets among all their jobs (icmp, path, stamp) hold none per job.
struct SocketUse {
    std::size_t budget = 0;  // per job in flight, from the probes' budget
    std::size_t own = 0;     // per job, outside it
    std::size_t cap = 0;     // at most this many budget sockets for all its jobs (0: no cap)
};

// How a kind's rounds need ICMP through the borders on the way (policy/expectation.hpp): where
// a network declares `icmp = "blocked"`, an echo fails and a trace is told nothing by the
// routers behind the border, so nothing is expected of it.
enum class IcmpUse { none, echo, trace };

// Which forms of a kind a target runs: "KIND" and/or "KIND:SERVICE", and the target's
// interval and timeout, for kinds whose rounds must fit in the interval (0: not known).
struct KindUse {
    bool plain = false;
    bool with_service = false;
    Duration interval{};
    Duration timeout{};
    bool any() const { return plain || with_service; }
};

// What a kind knows when it builds one job's Params.
struct JobContext {
    std::string site;  // the appliance's own network
    IpAddress destination;
    const Service* service = nullptr;  // null for "KIND" without a service
    std::uint16_t port = 0;            // the service's; a kind may set its own default
    std::string default_ca_file;       // [fedprobe] ca_file
    bool for_flow = false;             // a flow of the policy only asks whether the path is open
    Duration interval{};               // the target's; a kind may set its own (path: 60 s)
};

template <typename K>
concept ProbeKind = requires(OptionReader& reader, const KindUse& use,
                             const typename K::Options* options, JobContext& context,
                             EventLoop& loop) {
    { K::kName } -> std::convertible_to<std::string_view>;
    { K::kServices } -> std::convertible_to<ServiceUse>;
    {std::span<const Transport>(K::kTransports)};
    {std::span<const Outcome>(K::kOutcomes)};
    {std::span<const FamilyInfo>(K::kFamilies)};
    {std::span<const FamilyInfo>(K::kProbeFamilies)};
    { K::kCommonDuration } -> std::convertible_to<bool>;
    { K::kSockets } -> std::convertible_to<SocketUse>;
    { K::kIcmp } -> std::convertible_to<IcmpUse>;
    { K::kChecksServices } -> std::convertible_to<bool>;
    requires std::copyable<typename K::Options>;
    requires std::copyable<typename K::Params>;
    requires std::copyable<typename K::Result>;
    // Equal option tables and params share one box (BoxPool): a generated config repeats a few.
    requires std::equality_comparable<typename K::Options>;
    requires std::equality_comparable<typename K::Params>;
    // Reads [targets.KIND]; problems go to the reader, located.
    { K::parse(reader, use) } -> std::same_as<typename K::Options>;
    // "" when a probe of this form can run with these options (null: no table), else why not.
    { K::check(use, options) } -> std::same_as<std::string>;
    { K::params(options, context) } -> std::same_as<typename K::Params>;
    { K::make_probe(loop) } -> std::same_as<std::unique_ptr<Probe>>;
    { K::make_series() } -> std::same_as<std::unique_ptr<KindSeries>>;
};

}  // namespace fedprobe
