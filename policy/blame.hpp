// Federation verdicts: for every broken flow of the policy, the segment of the way where it
// breaks and the organisation that owns that segment, decided from the evidence of both ends
// (the source's flow and traces, the destination's traces back, STAMP between the appliances).
// `fedprobe blame` and its --serve mode gather the evidence (daemon/blame.hpp); this file only
// judges it. Pure functions over plain values: no I/O, no clock but the `now` passed in; any
// thread.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fedprobe {

// One hop of a trace, as an appliance exports it: address "" for a TTL that stayed silent.
struct HopSeen {
    int ttl = 0;
    std::string address, network;
    bool operator==(const HopSeen&) const = default;
};

// One path series of one appliance: its last round towards a target.
struct TraceSeen {
    std::string target, network;  // the target's id and network
    std::string service;          // "" for a plain (icmp/udp) path
    std::vector<HopSeen> hops;    // by TTL
    bool reached = false;
    std::string stop_reason;         // reached, silent, unreachable, prohibited, ... ("" unknown)
    std::optional<HopSeen> stop;     // where it stopped (the last hop that answered)
    std::optional<double> last_run;  // unix seconds of the last round, when known
    // path.mtu: the path MTU found, and a black hole: full-size packets with DF lost silently
    // after this hop (ttl 0 and no address: lost before the first hop), with nothing sent back.
    std::optional<double> mtu;
    std::optional<HopSeen> blackhole;
};

// One flow of the policy as the appliance at its source sees it.
struct FlowSeen {
    std::string flow, to, network, service;  // to: the target id; network: the target's network
    std::string expect;                      // allow | deny
    std::string state;                       // an outcome's name; "" before the first probe
    bool compliant = false;
    std::string reporter, reporter_network;  // who answered for it, when something did
    // What the reporter answered: the state itself, or for a silent (filtered) round the
    // answer to an earlier round of the same failure, which a router's ICMP rate limit kept
    // from this one ("" from appliances before 2026-12-06).
    std::string answered;
    std::optional<HopSeen> blocked_after;  // where a silent drop's trace ended
    std::optional<double> since;           // unix seconds of its last change of state
};

// A STAMP session from one appliance to another's reflector: its last round.
struct StampSeen {
    std::string target, network;
    std::string state;  // the stamp job's last outcome ("ok", "filtered", ...)
    double sent = 0, forward_lost = 0, backward_lost = 0;  // counters, for the words only
};

// A probe of the appliance's that failed (fedprobe_probe_last_error_info), with the device that
// said so when one did: a router that has no route, a firewall that rejects; none for a resolver
// whose answer is not the expected one.
struct ProbeErrorSeen {
    std::string target, network, probe, service, outcome, reporter, reporter_network;
};

// An idle:SERVICE job: how long an idle session lives on the way to its target.
struct IdleSeen {
    std::string target, network, service;
    double lower = 0;                // a session this idle (seconds) lived
    double upper = 0;                // one this idle was cut (+Inf: none was)
    std::optional<double> required;  // idle.required, when declared
    bool below_required = false;     // upper < required: the finding
};

// What an appliance's passive capture counted of real users' handshakes between two networks
// on one service, since it started (fedprobe_passive_handshakes_total).
struct PassiveSeen {
    std::string src_network, dst_network, service;
    std::map<std::string, double> outcomes;  // ok, filtered, refused, ... -> count
};

// Everything one appliance said, or why it said nothing.
struct ApplianceEvidence {
    std::string site;
    bool answered = false;
    std::string error;  // why not, when it did not answer
    std::vector<FlowSeen> flows;
    std::vector<TraceSeen> traces;
    std::vector<StampSeen> stamps;
    std::vector<ProbeErrorSeen> errors;
    std::vector<IdleSeen> idles;
    std::vector<PassiveSeen> passive;
    bool captures = false;  // it exports passive series: its capture is on
    // Test packets its STAMP reflector left unanswered since it started, the kernel's drops for
    // a full buffer and its own rate limit's: senders count them as lost on the way out.
    double reflector_unanswered = 0;

    static ApplianceEvidence unanswered(std::string site, std::string why) {
        ApplianceEvidence a;
        a.site = std::move(site);
        a.error = std::move(why);
        return a;
    }
};

struct BlameSettings {
    // A trace older than this many seconds is stale evidence (0: never).
    double stale_after = 0;
    // The network that numbers the link an answering hop's address sits on, when it is not
    // that hop's own (NetworkIndex::lookup_link): names a silent router beside it. Unset or
    // "unknown": a silent hop stays unnamed.
    std::function<std::string(const std::string& address)> link_network;
};

// The segments of a flow's way, as the federation's change board names them.
enum class Segment { source, transit, destination, return_, application, mtu, idle, dns, unknown };
const char* to_string(Segment s);

struct Fault {
    std::string flow, from, to, to_network, service, expect, state;
    Segment segment = Segment::unknown;
    std::string owner = "unknown";  // a [[networks]] id, or "unknown"
    std::optional<HopSeen> hop;     // as check's blocked_after: where the flow dies
    std::vector<std::string> forward_networks;
    std::optional<std::vector<std::string>> return_networks;  // nullopt: the other end has none
    std::vector<std::string> evidence;                        // sentences an engineer can forward
    std::string reason;  // for unknown: why the evidence does not decide
};

// Every broken flow among the appliances' evidence, in the order of the sites, then the flows.
// A flow whose handshake complies is still broken where its source's path.mtu finds a black
// hole into its network (segment mtu). Two faults belong to no flow of the policy, and carry a
// flow name of their own: "mtu:TARGET" for a black hole towards a target no allowed flow goes
// to, and "dns:TARGET" for a resolver whose answer is not the one declared (segment dns).
// Idle sessions cut before idle.required give segment idle on the allowed flow of that service
// to that target, else "idle:TARGET"; the owner is the one network on the cut sessions' way
// that no session living longer crosses (from every appliance's idle jobs and traces).
// Any other flow that complies gets no fault.
std::vector<Fault> blame(const std::vector<ApplianceEvidence>& appliances, double now,
                         const BlameSettings& settings = {});

// The distinct networks of a trace in order, silent hops skipped, repeats folded.
std::vector<std::string> networks_of(const std::vector<HopSeen>& hops);

}  // namespace fedprobe
