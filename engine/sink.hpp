// Where results go: the engine hands every finished round to each sink (metrics, the policy's
// verdicts, the change log, a check's report). Sinks are called on the engine's thread, in the
// order they were added; a sink must not call back into the engine.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "engine/jobs.hpp"
#include "engine/scheduler.hpp"
#include "probes/path/path_middlebox.hpp"
#include "probes/path/path_trace.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

// One (target, probe) or flow job as the engine runs it. The same object lives across reloads
// while its key stays, so sinks may keep a pointer to their own per-job state in `sink_data`.
struct LiveJob {
    // The daemon has two sinks and check one; every slot costs each of 100,000 jobs 8 bytes.
    static constexpr std::size_t kMaxSinks = 2;
    Job job;
    JobHandle schedule;                   // its place in the engine's scheduler
    std::optional<Outcome> last_outcome;  // updated after every sink has seen the result
    std::optional<IpAddress> last_reporter;
    std::array<void*, kMaxSinks> sink_data{};  // each sink's own slot (see ResultSink::slot)
    // What tracing a flow found; the engine makes it for flow jobs only, so the many (target,
    // probe) jobs do not carry a few hundred bytes each of it.
    struct FlowTrace {
        // An allow flow that ended filtered is traced with path:SERVICE (see EngineSettings):
        // where it died, cleared when the flow is no longer filtered.
        std::optional<BlockedAfter> blocked_after;
        std::optional<TimePoint> traced_at;  // when its last trace started
        bool retried = false;                // the last trace retried one that could not run
        // check --mtu: an allow flow that works is traced with path:SERVICE and path.mtu; what
        // the search and the quotes found.
        std::optional<PathMtu> path_mtu;
        std::vector<MiddleboxSeen> middleboxes;
        bool tracing = false;
        // The last round a device answered for with a failure, kept through the silent
        // (filtered) rounds after it for EngineSettings::answer_memory; cleared by any other
        // outcome. Set before the sinks see the round.
        struct Answer {
            Outcome outcome;  // unreachable or prohibited
            IpAddress reporter;
            std::string network;  // the reporter's ("" in no declared network)
            TimePoint at;
        };
        std::optional<Answer> answer;
        std::optional<TimePoint> worked_at;  // its last ok round: older answers do not explain
    };
    std::unique_ptr<FlowTrace> flow_trace;

    // The trace's findings; empty for a job that is not a flow.
    const std::optional<BlockedAfter>& blocked_after() const {
        static const std::optional<BlockedAfter> none;
        return flow_trace ? flow_trace->blocked_after : none;
    }
    const std::optional<PathMtu>& path_mtu() const {
        static const std::optional<PathMtu> none;
        return flow_trace ? flow_trace->path_mtu : none;
    }
    // A flow's last answered failure, as it stands for this round (see FlowTrace::answer).
    const FlowTrace::Answer* answer() const {
        return flow_trace && flow_trace->answer ? &*flow_trace->answer : nullptr;
    }
    const std::vector<MiddleboxSeen>& middleboxes() const {
        static const std::vector<MiddleboxSeen> none;
        return flow_trace ? flow_trace->middleboxes : none;
    }
    int in_flight = 0;     // probe rounds and traces
    bool removed = false;  // left the config while a probe ran: dropped when it returns
    // Whether its scheduled round started late. Kept here rather than in the round's callback,
    // which then fits std::function's inline buffer: no allocation per probe.
    bool started_late = false;
};

// A round as the sinks see it.
struct RoundReport {
    const ProbeResult& result;
    const std::string& reporter_network;  // the reporter's network, "" without a reporter
    bool trace_follows = false;           // a blocked flow: a trace starts, ending in flow_traced()
    // A flow's round that goes on the story of its last answered failure (LiveJob::answer()): a
    // silent round within answer_memory, or the same answer again. Not a change worth a line.
    bool same_answer = false;
    // result.overload set: the round measured the prober, not the network; sinks count it and
    // record no verdict.
};

class ResultSink {
  public:
    virtual ~ResultSink() = default;
    // The job set after a load or reload, in config order: make state for new jobs, drop it
    // for departed ones, keep it for the rest. `config` outlives the jobs' pointers into it.
    virtual void jobs_changed(std::span<LiveJob* const> jobs) = 0;
    virtual void started(const LiveJob&, Duration /*lag*/) {}
    virtual void finished(LiveJob& job, const RoundReport& round) = 0;
    // The trace of a blocked flow ended; job.blocked_after() holds where the flow dies (nullopt:
    // the trace reached the destination, or `path_result` is an error).
    virtual void flow_traced(LiveJob& /*job*/, const ProbeResult& /*path_result*/) {}

    std::size_t slot = 0;  // this sink's index into LiveJob::sink_data, set by the engine
};

}  // namespace fedprobe
