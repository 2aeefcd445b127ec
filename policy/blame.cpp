#include "policy/blame.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace fedprobe {

namespace {

std::string at(const HopSeen& h) {
    if (h.address.empty()) return "no hop answered";
    return h.address + (h.network.empty() ? "" : " (" + h.network + ")") +
           (h.ttl > 0 ? ", hop " + std::to_string(h.ttl) : "");
}

std::string joined(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v)
        out += (out.empty() ? "" : " > ") + s;
    return out.empty() ? "(none)" : out;
}

const ApplianceEvidence* appliance(const std::vector<ApplianceEvidence>& all,
                                   const std::string& site) {
    for (const auto& a : all)
        if (a.site == site) return &a;
    return nullptr;
}

// The source's own trace of the flow: the flow's target on the flow's service, else any plain
// trace into the destination's network (the way there, if not on the service's port).
const TraceSeen* forward_trace(const ApplianceEvidence& a, const FlowSeen& f) {
    for (const auto& t : a.traces)
        if (t.target == f.to && t.service == f.service) return &t;
    for (const auto& t : a.traces)
        if (t.network == f.network && t.service.empty()) return &t;
    for (const auto& t : a.traces)
        if (t.network == f.network) return &t;
    return nullptr;
}

// The destination's trace back into the source's network: a plain one first (it needs no
// port to be open at the source's border), a reached one before one that is not.
const TraceSeen* return_trace(const ApplianceEvidence& b, const std::string& source) {
    const TraceSeen* best = nullptr;
    auto rank = [](const TraceSeen& t) {
        return (t.service.empty() ? 2 : 0) + (t.reached ? 1 : 0);
    };
    for (const auto& t : b.traces)
        if (t.network == source && (!best || rank(t) > rank(*best))) best = &t;
    return best;
}

const StampSeen* stamp_to(const ApplianceEvidence& a, const std::string& network) {
    for (const auto& s : a.stamps)
        if (s.network == network) return &s;
    return nullptr;
}

Segment segment_of(const std::string& network, const std::string& source,
                   const std::string& destination) {
    if (network == source) return Segment::source;
    if (network == destination) return Segment::destination;
    return Segment::transit;
}

// `reflector`: the appliance whose reflector answers the session, when its evidence is in.
std::string stamp_words(const StampSeen& s, const std::string& from,
                        const ApplianceEvidence* reflector) {
    char buf[400];  // network ids are short ([a-z0-9-]); the words fit with room to spare
    if (s.sent > 0)
        std::snprintf(buf, sizeof buf,
                      "STAMP %s -> %s: last round %s; since start %.0f sent, %.0f lost on the way "
                      "out, %.0f on the way back",
                      from.c_str(), s.network.c_str(),
                      s.state.empty() ? "not run" : s.state.c_str(), s.sent, s.forward_lost,
                      s.backward_lost);
    else
        std::snprintf(buf, sizeof buf, "STAMP %s -> %s: last round %s", from.c_str(),
                      s.network.c_str(), s.state.empty() ? "not run" : s.state.c_str());
    std::string words = buf;
    // A flooded reflector's own drops look like loss on the way out from the sender's end.
    if (s.forward_lost > 0 && reflector && reflector->reflector_unanswered > 0) {
        std::snprintf(buf, sizeof buf,
                      "; %s's reflector itself left %.0f test packets unanswered since it "
                      "started (its buffer full, or its rate limit), which senders count as lost "
                      "on the way out",
                      reflector->site.c_str(), reflector->reflector_unanswered);
        words += buf;
    }
    return words;
}

// What the destination's capture saw of real handshakes from the source's network on the
// flow's service: whether SYNs from there reach it at all, and how they end. Words only: the
// counts run since the appliance started, so they show the pattern, not this minute.
std::optional<std::string> passive_words(const ApplianceEvidence& b, const std::string& from,
                                         const std::string& service) {
    if (!b.captures) return std::nullopt;
    for (const auto& p : b.passive) {
        if (p.src_network != from || p.dst_network != b.site || p.service != service) continue;
        std::string counts;
        for (const auto& [outcome, n] : p.outcomes) {
            if (n <= 0) continue;
            char buf[64];
            std::snprintf(buf, sizeof buf, "%.0f ", n);
            counts += (counts.empty() ? "" : ", ") + std::string(buf) + outcome;
        }
        if (counts.empty()) break;
        return "at " + b.site + "'s capture, real " + service + " handshakes from " + from +
               " since it started: " + counts;
    }
    return "at " + b.site + "'s capture, no " + service + " handshake from " + from +
           " has been seen since it started";
}

// A router of `from`'s way into `into` that says it has no route there: the first of `from`'s
// probes into `into` that ended unreachable, reported by a device outside `into`; or else one
// of its flows into `into` whose reporter answered so (`with_flows`: for the way back; the way
// out has the judged flow's own reporter, with its own checks). Routers rate-limit their ICMP
// errors (Linux: one a second per source), so at a scrape the probes may all show silence; a flow
// keeps its reporter's answer through its silent rounds for 30 s (the engine's answer memory).
std::optional<ProbeErrorSeen> no_route(const ApplianceEvidence& from, const std::string& into,
                                       bool with_flows) {
    // Not a STAMP session's or a trace's: their rounds come every 10 s or more, so their last
    // error can be a fault that has gone (CI: return-route-missing's, read under asymmetric).
    // Traces have their own rule; the probes that run every interval speak for the route now.
    for (const auto& e : from.errors)
        if (e.network == into && e.outcome == "unreachable" && !e.reporter_network.empty() &&
            e.reporter_network != into && e.probe != "stamp" && e.probe != "path")
            return e;
    if (!with_flows) return std::nullopt;
    for (const auto& f : from.flows) {
        const std::string& answered = f.answered.empty() ? f.state : f.answered;
        if (f.network == into && answered == "unreachable" && !f.compliant &&
            !f.reporter_network.empty() && f.reporter_network != into)
            return ProbeErrorSeen{f.to,          f.network,  "flow " + f.flow,  f.service,
                                  "unreachable", f.reporter, f.reporter_network};
    }
    return std::nullopt;
}

std::string probe_words(const ProbeErrorSeen& e) {
    return e.probe + (e.service.empty() ? "" : ":" + e.service) + " to " + e.target + ": " +
           e.outcome + " from " + e.reporter + " (" + e.reporter_network + ")";
}

// A silent drop on the way of an allowed flow: the way out, the way back, or neither known.
// The way back is asked of the destination's appliance first, since a missing or asymmetric
// return route makes the way out look cut where the replies stop coming back.
// The way out into B as far as any of A's traces into B knows it. The flow's own trace may end
// early (its packets are dropped, a router rate-limits its answers), and routes are chosen per
// destination network: a longer trace into B that agrees with the flow's as far as the flow's
// goes shows where the way out continues, so a parting from the way back beyond the flow's
// last answering hop is still seen.
std::vector<std::string> way_out_into(const ApplianceEvidence& a, const std::string& B,
                                      const std::vector<std::string>& fwd) {
    std::vector<std::string> best = fwd;
    for (const auto& t : a.traces) {
        if (t.network != B) continue;
        std::vector<std::string> n = networks_of(t.hops);
        if (n.size() > best.size() && std::equal(fwd.begin(), fwd.end(), n.begin())) best = n;
    }
    return best;
}

void judge_silent_drop(Fault& fault, const FlowSeen& f, const ApplianceEvidence& a,
                       const std::vector<ApplianceEvidence>& all, double now,
                       const BlameSettings& settings) {
    const std::string& A = a.site;
    const std::string& B = f.network;
    if (f.blocked_after)
        fault.evidence.push_back("from " + A + ": the flow dies after " + at(*f.blocked_after));
    if (const StampSeen* s = stamp_to(a, B))
        fault.evidence.push_back(stamp_words(*s, A, appliance(all, B)));
    // The way out has no route: the source's own probes into B say so.
    // Unless a trace of A's went on into B after the flow broke: then the "unreachable" is from
    // before, kept by a job whose round has not come round since (a STAMP session's, every
    // 10 s), and the route it speaks of is back.
    const bool routed_since =
        std::any_of(a.traces.begin(), a.traces.end(), [&](const TraceSeen& t) {
            if (t.network != B || !t.last_run || !f.since || *t.last_run < *f.since) return false;
            const std::vector<std::string> nets = networks_of(t.hops);
            return t.reached || std::find(nets.begin(), nets.end(), B) != nets.end();
        });
    if (const auto e = no_route(a, B, false); e && B != A && !routed_since) {
        fault.evidence.push_back("from " + A + ": " + probe_words(*e) +
                                 ": the way out has no route");
        fault.segment = segment_of(e->reporter_network, A, B);
        fault.owner = e->reporter_network;
        return;
    }
    // Or the source's last trace into B stopped at "unreachable" from a router outside B: a
    // round sends many packets, so one answer among them survives the router's ICMP rate
    // limit where a single probe's may not. Only a trace taken since the flow broke: an older
    // one speaks of an earlier fault (a border's missing route, fixed since), whose trace's
    // next round has not come yet.
    if (B != A)
        for (const auto& t : a.traces)
            if (t.network == B && !t.reached && t.stop_reason == "unreachable" && t.stop &&
                !t.stop->network.empty() && t.stop->network != B &&
                !(f.since && t.last_run && *t.last_run < *f.since)) {
                fault.evidence.push_back("from " + A + ": the trace to " + t.target +
                                         " ends unreachable from " + at(*t.stop) +
                                         ": the way out has no route");
                fault.segment = segment_of(t.stop->network, A, B);
                fault.owner = t.stop->network;
                fault.hop = t.stop;
                return;
            }
    // The same target's other probes are told "unreachable" (no route, no host: whatever the
    // port): routers rate-limit their ICMP errors (Linux: one a second per source), so of the
    // probes sent together only some get the answer, and the rest look dropped.
    for (const auto& e : a.errors)
        if (e.target == f.to && e.outcome == "unreachable" && !e.reporter_network.empty()) {
            fault.evidence.push_back(
                "from " + A + ": " + probe_words(e) +
                ": the device that says so rate-limits what it sends, and this probe's answer "
                "was one it did not send");
            fault.segment = segment_of(e.reporter_network, A, B);
            fault.owner = e.reporter_network;
            fault.hop = HopSeen{0, e.reporter, e.reporter_network};
            return;
        }
    // The flow stays inside one organisation: there is no other end to ask.
    if (A == B) {
        if (!f.blocked_after) {
            fault.reason = "no trace of the flow yet: where it dies is not known";
            return;
        }
        fault.segment = Segment::source;
        fault.owner = A;
        fault.hop = f.blocked_after;
        return;
    }
    const ApplianceEvidence* b = appliance(all, B);
    if (!b) {
        fault.reason =
            "no evidence from " + B +
            "'s appliance: a fault on the way back cannot be told from one on the way out";
        return;
    }
    if (!b->answered) {
        fault.reason = B + "'s appliance did not answer (" + b->error +
                       "): a fault on the way back cannot be told from one on the way out";
        return;
    }
    if (const StampSeen* s = stamp_to(*b, A)) fault.evidence.push_back(stamp_words(*s, B, &a));
    if (auto words = passive_words(*b, A, f.service)) fault.evidence.push_back(*words);
    const TraceSeen* back = return_trace(*b, A);
    if (back && settings.stale_after > 0 && back->last_run &&
        now - *back->last_run > settings.stale_after) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.0f s old", now - *back->last_run);
        fault.reason = B + "'s trace back into " + A + " (" + back->target + ") is " + buf;
        return;
    }
    if (back) fault.return_networks = networks_of(back->hops);
    // The way back has no route: B's own probes into A, or its trace back, say so.
    if (const auto e = no_route(*b, A, true)) {
        fault.evidence.push_back("from " + B + ": " + probe_words(*e) + ": replies from " + B +
                                 " have no way back to " + A);
        fault.segment = Segment::return_;
        fault.owner = e->reporter_network;
        fault.hop = HopSeen{0, e->reporter, e->reporter_network};
        if (back && back->stop && back->stop->address == e->reporter) fault.hop = back->stop;
        return;
    }
    if (back && !back->reached && back->stop &&
        (back->stop_reason == "unreachable" || back->stop_reason == "prohibited") &&
        !back->stop->network.empty()) {
        fault.evidence.push_back("from " + B + ": the trace back to " + back->target + " (" + A +
                                 ") ends " + back->stop_reason + " from " + at(*back->stop) +
                                 ": replies from " + B + " have no way back");
        fault.segment = Segment::return_;
        fault.owner = back->stop->network;
        fault.hop = back->stop;
        return;
    }
    if (!back) {
        fault.reason = B + "'s appliance traces nothing back into " + A +
                       ": a fault on the way back cannot be told from one on the way out";
        return;
    }
    // A trace back taken before the flow broke shows the way back as it was: a route that
    // moved with the fault (an asymmetric return) is not in it yet, and the ways would seem to
    // agree. Both appliances' clocks are NTP's; a skew only delays the verdict.
    if (f.since && back->last_run && *back->last_run < *f.since) {
        fault.reason = B + "'s last trace back into " + A + " (" + back->target +
                       ") was taken before the flow broke: the way back as it is now is not "
                       "known yet";
        return;
    }
    if (!f.blocked_after) {
        fault.reason = "no trace of the flow yet: where it dies is not known";
        return;
    }
    const HopSeen& hop = *f.blocked_after;
    // The way back is known as far as it arrives in A: the replies' route, out of B's hands.
    const bool arrives =
        back->reached || (!fault.return_networks->empty() && fault.return_networks->back() == A);
    if (!arrives) {
        fault.evidence.push_back("from " + B + ": the trace back to " + back->target + " (" + A +
                                 ") is lost after " +
                                 (back->stop ? at(*back->stop) : "no hop answered"));
        fault.reason = "both ways are lost silently: the way back cannot be told from the way out";
        return;
    }
    fault.evidence.push_back("from " + B + ": the trace back to " + back->target + " (" + A + ") " +
                             (back->reached ? "reaches it" : "reaches " + A + "'s network") +
                             " through " + joined(*fault.return_networks));
    // Align the way out (as far as it is known) with the way back, both from the source: where
    // they part, one of the routes around the loop differs. A border with one uplink has no
    // choice of way: the network that has one (a transit network) beside the parting is where
    // the route is.
    std::vector<std::string> rev = *fault.return_networks;
    std::reverse(rev.begin(), rev.end());
    const std::vector<std::string> fwd = way_out_into(a, B, fault.forward_networks);
    if (fwd.size() > fault.forward_networks.size())
        fault.evidence.push_back("from " + A + ": its other traces into " + B +
                                 " follow the flow's way and go on through " + joined(fwd));
    for (std::size_t i = 0; i < fwd.size() && i < rev.size(); ++i) {
        if (fwd[i] == rev[i]) continue;
        auto transit = [&](const std::string& n) { return !n.empty() && n != A && n != B; };
        const std::string before = i > 0 ? rev[i - 1] : "",
                          after = i + 1 < rev.size() ? rev[i + 1] : "";
        fault.segment = Segment::return_;
        fault.hop = hop;
        fault.owner = transit(after)    ? after
                      : transit(before) ? before
                      : !after.empty()  ? after
                                        : "unknown";
        fault.evidence.push_back(
            "the flow goes out through " + fwd[i] + " and its replies come back through " + rev[i] +
            ": an asymmetric path, whose routes part beside " + fault.owner +
            "; a stateful device that sees one half of the connection drops the other");
        if (fault.owner == "unknown")
            fault.reason = "the ways out and back part, and nothing says where";
        return;
    }
    if (hop.ttl == 0 || hop.network.empty()) {
        fault.reason =
            hop.ttl == 0
                ? "no hop of the trace answered: where the flow dies is not known"
                : "the last hop that answered, " + hop.address + ", is in no declared network";
        fault.hop = hop;
        return;
    }
    fault.segment = segment_of(hop.network, A, B);
    fault.owner = hop.network;
    fault.hop = hop;
    fault.evidence.push_back(
        "the way back follows the way out: the flow is dropped on its way out, at or just after " +
        at(hop));
}

Fault judge_flow(const FlowSeen& f, const ApplianceEvidence& a,
                 const std::vector<ApplianceEvidence>& all, double now,
                 const BlameSettings& settings) {
    Fault fault;
    fault.flow = f.flow;
    fault.from = a.site;
    fault.to = f.to;
    fault.to_network = f.network;
    fault.service = f.service;
    fault.expect = f.expect;
    fault.state = f.state;
    if (const TraceSeen* t = forward_trace(a, f)) {
        std::vector<HopSeen> upto;
        for (const auto& h : t->hops)
            if (!f.blocked_after || f.blocked_after->ttl == 0 || h.ttl <= f.blocked_after->ttl)
                upto.push_back(h);
        fault.forward_networks = networks_of(upto);
    }
    if (f.blocked_after && fault.forward_networks.empty() && !f.blocked_after->network.empty())
        fault.forward_networks = {f.blocked_after->network};
    const std::string& A = a.site;
    const std::string& B = f.network;
    const std::string policy = "the policy " +
                               std::string(f.expect == "deny" ? "denies" : "allows") + " " +
                               f.service + " from " + A + " to " + f.to + " (" + B + ")";
    fault.evidence.push_back(policy + "; from " + A + " it is " + f.state);
    const std::string reporter =
        f.reporter + (f.reporter_network.empty() ? "" : " (" + f.reporter_network + ")");
    if (f.expect == "deny") {
        if (f.state == "ok" || f.state == "refused") {
            fault.segment = Segment::destination;
            fault.owner = B;
            fault.evidence.push_back(
                f.state == "ok"
                    ? "it connects: no firewall on the way stops it, " + B + "'s border included"
                    : "the target itself refuses it: no firewall on the way stops it, " + B +
                          "'s border included");
        } else {
            fault.reason = "it is " + f.state + ": whether a firewall would stop it is not known";
        }
        return fault;
    }
    // A silent round of a flow whose earlier round a device answered: that device's answer,
    // whose copies for the rounds since its ICMP rate limit withheld.
    // Unless a trace of A's into B since the flow last changed went on past that device: its
    // "no route" is then an earlier fault's (one fault replaced by another with no working
    // round between), kept by the engine's answer memory.
    const bool passed_since =
        std::any_of(a.traces.begin(), a.traces.end(), [&](const TraceSeen& t) {
            if (t.network != B || !t.last_run || !f.since || *t.last_run < *f.since) return false;
            auto at = std::find_if(t.hops.begin(), t.hops.end(),
                                   [&](const HopSeen& h) { return h.address == f.reporter; });
            return at != t.hops.end() &&
                   (t.reached || std::any_of(std::next(at), t.hops.end(),
                                             [](const HopSeen& h) { return !h.address.empty(); }));
        });
    const bool answered_before = f.state == "filtered" && !f.reporter.empty() &&
                                 (f.answered == "prohibited" || f.answered == "unreachable") &&
                                 !passed_since;
    if (answered_before && !f.reporter_network.empty()) {
        fault.segment = segment_of(f.reporter_network, A, B);
        fault.owner = f.reporter_network;
        fault.evidence.push_back(
            reporter + " answered " + f.answered +
            " to an earlier round of it; the rounds since got no answer, as a device that "
            "rate-limits its answers leaves them");
    } else if (f.state == "prohibited" || f.state == "unreachable") {
        if (f.reporter_network.empty()) {
            fault.reason = f.reporter.empty() ? "nothing says who answered"
                                              : "the device that answered, " + f.reporter +
                                                    ", is in no declared network";
        } else {
            fault.segment = segment_of(f.reporter_network, A, B);
            fault.owner = f.reporter_network;
            fault.evidence.push_back(reporter + " answered " + f.state);
        }
    } else if (f.state == "refused") {
        fault.segment = Segment::destination;
        fault.owner = B;
        fault.evidence.push_back(
            "refused by " + (f.reporter.empty() ? "the target" : reporter) +
            ": the way is open and nothing listens (or a firewall forges the target's reset)");
    } else if (f.state == "mismatch" || f.state == "tls_error" || f.state == "app_blocked") {
        fault.segment = Segment::application;
        fault.owner = B;
        fault.evidence.push_back("the connection is made, and the application's answer is " +
                                 f.state);
    } else if (f.state == "filtered") {
        judge_silent_drop(fault, f, a, all, now, settings);
    } else {
        fault.reason =
            "the probe at " + A + " ended " + f.state + ": nothing was learned of the way";
    }
    return fault;
}

// A black hole is one only where small packets get through: when the trace itself does not
// reach its target, large packets are lost with everything else (a route, a drop), and that
// fault is judged on its own. The path probe reports none then; appliances of earlier builds
// did, so the verdict checks it too.
bool has_blackhole(const TraceSeen& t) {
    return t.blackhole && t.reached;
}

// The source's trace that found a black hole on the flow's way: towards the flow's target, else
// into its network.
const TraceSeen* blackhole_towards(const ApplianceEvidence& a, const std::string& target,
                                   const std::string& network) {
    for (const auto& t : a.traces)
        if (has_blackhole(t) && t.target == target) return &t;
    for (const auto& t : a.traces)
        if (has_blackhole(t) && t.network == network) return &t;
    return nullptr;
}

// A black hole: full-size packets pass the last hop that answered them and are lost before the
// next, which never says "fragmentation needed". The device that should say it is that next
// hop (or the link into it), so its network owns the fault; the small-packet trace names it.
// Silent routers named from the federation's traces: where a silent hop is followed by one
// that answers from a link numbered from another network's addresses, the silent one is that
// network's router. The name is kept per the hop that precedes it (the router whose next hop it
// is), and only where every trace agrees, so a trace whose silent hop has no such neighbour can
// still name it when it follows the same router.
class SilentHops {
  public:
    SilentHops(const std::vector<ApplianceEvidence>& all, const BlameSettings& settings) {
        if (!settings.link_network) return;
        for (const auto& a : all)
            for (const auto& t : a.traces)
                for (std::size_t i = 1; i + 1 < t.hops.size(); ++i) {
                    const HopSeen &prev = t.hops[i - 1], &mid = t.hops[i], &next = t.hops[i + 1];
                    if (!mid.address.empty() || prev.address.empty() || next.address.empty() ||
                        prev.ttl + 1 != mid.ttl || mid.ttl + 1 != next.ttl)
                        continue;
                    const std::string n = settings.link_network(next.address);
                    if (n.empty() || n == "unknown") continue;
                    auto [it, fresh] = after_.emplace(prev.address, n);
                    if (!fresh && it->second != n) it->second = "";  // traces disagree
                }
    }
    // The silent router's network after the hop at `address`, or "".
    std::string after(const std::string& address) const {
        auto it = after_.find(address);
        return it == after_.end() ? "" : it->second;
    }

  private:
    std::map<std::string, std::string> after_;
};

void judge_blackhole(Fault& fault, const TraceSeen& t, const std::string& from,
                     const BlameSettings& settings, const SilentHops& silent) {
    const HopSeen& last = *t.blackhole;
    fault.segment = Segment::mtu;
    fault.hop = last;
    const HopSeen* next = nullptr;
    const HopSeen* after_next = nullptr;
    for (const auto& h : t.hops) {
        if (h.ttl == last.ttl + 1 && !h.address.empty()) next = &h;
        if (h.ttl == last.ttl + 2 && !h.address.empty()) after_next = &h;
    }
    char mtu[64] = "";
    if (t.mtu) std::snprintf(mtu, sizeof mtu, " (the path MTU is %.0f bytes)", *t.mtu);
    fault.evidence.push_back(
        "from " + from + ": path.mtu towards " + t.target +
        (t.service.empty() ? "" : " on " + t.service + "'s port") + mtu +
        ": full-size packets with DF pass " +
        (last.address.empty() ? std::string("no hop") : at(last)) +
        " and are lost after it, and no device sends \"fragmentation needed\": a black hole");
    if (!next && after_next && settings.link_network) {
        // The next router never answers at all; the one after it does. The silent one is its
        // neighbour on the link that reaches it, and that link's addresses say whose it is.
        const std::string owner = settings.link_network(after_next->address);
        if (!owner.empty() && owner != "unknown") {
            fault.owner = owner;
            fault.evidence.push_back(
                "the next hop never answers, even small packets; the one after it, " +
                at(*after_next) + ", is reached over a link numbered from " + owner +
                "'s addresses: the silent router that drops the large packets is " + owner + "'s");
            return;
        }
    }
    if (!next && !last.address.empty()) {
        if (const std::string owner = silent.after(last.address); !owner.empty()) {
            fault.owner = owner;
            fault.evidence.push_back(
                "the next hop never answers, even small packets; in the federation's traces the "
                "silent router after " +
                last.address + " is " + owner + "'s (it reaches links numbered from " + owner +
                "'s addresses): the router that drops the large packets is " + owner + "'s");
            return;
        }
    }
    if (!next || next->network.empty()) {
        fault.reason =
            next ? "the hop after the black hole, " + next->address + ", is in no declared network"
                 : "the hop after the black hole does not answer small packets either";
        return;
    }
    fault.owner = next->network;
    fault.evidence.push_back("the next hop, " + at(*next) +
                             ", answers small packets: the device that drops the large ones "
                             "silently is there, or on the link into it");
}

// The networks an idle session from `a` to its target crosses: the way out as `a` traces it,
// and the way back as the target network's appliance traces it, where there is one.
std::vector<std::string> idle_way(const ApplianceEvidence& a, const IdleSeen& i,
                                  const std::vector<ApplianceEvidence>& all) {
    FlowSeen as_flow;
    as_flow.to = i.target;
    as_flow.network = i.network;
    as_flow.service = i.service;
    std::vector<std::string> way;
    auto add = [&](const std::vector<std::string>& nets) {
        for (const auto& n : nets)
            if (std::find(way.begin(), way.end(), n) == way.end()) way.push_back(n);
    };
    if (const TraceSeen* t = forward_trace(a, as_flow)) add(networks_of(t->hops));
    if (const ApplianceEvidence* b = appliance(all, i.network); b && b->answered && b != &a)
        if (const TraceSeen* back = return_trace(*b, a.site)) add(networks_of(back->hops));
    if (std::find(way.begin(), way.end(), a.site) == way.end()) way.insert(way.begin(), a.site);
    return way;
}

// Idle sessions cut too soon: the stateful device that forgets them is on their way, and on
// the way of no session that lived idle longer than these were cut after. With one network
// left, that network owns it.
void judge_idle(Fault& fault, const ApplianceEvidence& a, const IdleSeen& cut,
                const std::vector<ApplianceEvidence>& all) {
    fault.segment = Segment::idle;
    char words[200];
    std::snprintf(words, sizeof words,
                  "sessions idle for %.0f s live and for %.0f s are cut, below the %.0f s "
                  "idle.required",
                  std::isnan(cut.lower) ? 0.0 : cut.lower, cut.upper, cut.required.value_or(0));
    fault.evidence.push_back("from " + a.site + ": idle:" + cut.service + " to " + cut.target +
                             ": " + words);
    std::vector<std::string> suspects = idle_way(a, cut, all);
    fault.forward_networks = suspects;
    for (const auto& other : all) {
        if (!other.answered) continue;
        for (const auto& i : other.idles) {
            if (!(i.lower >= cut.upper)) continue;  // NaN: nothing learned
            const auto cleared = idle_way(other, i, all);
            const auto before = suspects.size();
            std::erase_if(suspects, [&](const std::string& n) {
                return std::find(cleared.begin(), cleared.end(), n) != cleared.end();
            });
            if (suspects.size() < before) {
                std::snprintf(words, sizeof words, "%.0f s", i.lower);
                fault.evidence.push_back("from " + other.site + ": idle:" + i.service + " to " +
                                         i.target + " lives " + words + " idle through " +
                                         joined(cleared));
            }
        }
    }
    if (suspects.size() == 1) {
        fault.owner = suspects[0];
        fault.evidence.push_back(
            "the one network on the cut sessions' way that no longer-lived "
            "session crosses: " +
            suspects[0]);
        return;
    }
    fault.reason = suspects.empty()
                       ? "every network on the way also carries sessions that live longer"
                       : "the cut sessions' way crosses " + joined(suspects) +
                             ", and no longer-lived session clears all but one";
}

Fault fault_of(const std::string& flow, const std::string& from, const std::string& to,
               const std::string& network, const std::string& service, const std::string& expect,
               const std::string& state) {
    Fault f;
    f.flow = flow;
    f.from = from;
    f.to = to;
    f.to_network = network;
    f.service = service;
    f.expect = expect;
    f.state = state;
    return f;
}

}  // namespace

const char* to_string(Segment s) {
    switch (s) {
        case Segment::source:
            return "source";
        case Segment::transit:
            return "transit";
        case Segment::destination:
            return "destination";
        case Segment::return_:
            return "return";
        case Segment::application:
            return "application";
        case Segment::mtu:
            return "mtu";
        case Segment::idle:
            return "idle";
        case Segment::dns:
            return "dns";
        case Segment::unknown:
            return "unknown";
    }
    return "unknown";
}

std::vector<std::string> networks_of(const std::vector<HopSeen>& hops) {
    std::vector<std::string> out;
    for (const auto& h : hops) {
        if (h.address.empty() || h.network.empty()) continue;
        if (out.empty() || out.back() != h.network) out.push_back(h.network);
    }
    return out;
}

std::vector<Fault> blame(const std::vector<ApplianceEvidence>& appliances, double now,
                         const BlameSettings& settings) {
    std::vector<Fault> out;
    const SilentHops silent(appliances, settings);
    auto add = [&](Fault&& fault) {
        if (fault.segment == Segment::unknown) fault.owner = "unknown";
        out.push_back(std::move(fault));
    };
    for (const auto& a : appliances) {
        if (!a.answered) continue;
        std::vector<const TraceSeen*> holes_judged;
        for (const auto& f : a.flows) {
            if (f.state.empty()) continue;
            if (!f.compliant) {
                add(judge_flow(f, a, appliances, now, settings));
                continue;
            }
            // The handshake works; full-size data on the same way may not.
            const TraceSeen* t =
                f.expect == "allow" ? blackhole_towards(a, f.to, f.network) : nullptr;
            if (!t) continue;
            holes_judged.push_back(t);
            Fault fault = fault_of(f.flow, a.site, f.to, f.network, f.service, f.expect, f.state);
            fault.evidence.push_back("the policy allows " + f.service + " from " + a.site + " to " +
                                     f.to + " (" + f.network +
                                     "); its handshake is ok, and full-size packets are lost");
            judge_blackhole(fault, *t, a.site, settings, silent);
            add(std::move(fault));
        }
        for (const auto& t : a.traces) {
            if (!has_blackhole(t) ||
                std::find(holes_judged.begin(), holes_judged.end(), &t) != holes_judged.end())
                continue;
            Fault fault = fault_of("mtu:" + t.target, a.site, t.target, t.network, t.service, "",
                                   "blackhole");
            judge_blackhole(fault, t, a.site, settings, silent);
            add(std::move(fault));
        }
        for (const auto& i : a.idles) {
            if (!i.below_required) continue;
            // The allowed flow of that service to that target, else a fault of its own.
            const FlowSeen* of = nullptr;
            for (const auto& f : a.flows)
                if (f.expect == "allow" && f.service == i.service &&
                    (f.to == i.target || f.network == i.network))
                    of = &f;
            Fault fault = of ? fault_of(of->flow, a.site, of->to, of->network, of->service,
                                        of->expect, of->state)
                             : fault_of("idle:" + i.target, a.site, i.target, i.network, i.service,
                                        "", "cut");
            judge_idle(fault, a, i, appliances);
            add(std::move(fault));
        }
        // A resolver's answer that is not the declared one: the horizon it serves this site is
        // wrong (stale, or split the wrong way). Its organisation keeps the zone and the views.
        // One fault per resolver, however many ways (UDP, TCP) it is asked.
        std::map<std::string, std::vector<std::string>> asked;  // target -> how
        std::vector<const ProbeErrorSeen*> resolvers;
        for (const auto& e : a.errors) {
            if (e.probe != "dns" || e.outcome != "mismatch") continue;
            auto& how = asked[e.target];
            if (how.empty()) resolvers.push_back(&e);
            how.push_back(e.service.empty() ? "over UDP" : "on " + e.service + "'s port");
        }
        for (const ProbeErrorSeen* e : resolvers) {
            Fault fault =
                fault_of("dns:" + e->target, a.site, e->target, e->network, "dns", "", e->outcome);
            fault.segment = Segment::dns;
            fault.owner = e->network;
            std::string how;
            for (const auto& h : asked[e->target])
                how += (how.empty() ? "" : " and ") + h;
            fault.evidence.push_back("from " + a.site + ": the resolver " + e->target + " (" +
                                     e->network + "), asked " + how +
                                     ", answers, and not what the federation file declares for " +
                                     a.site + ": a wrong or stale split-horizon view");
            add(std::move(fault));
        }
    }
    return out;
}

}  // namespace fedprobe
