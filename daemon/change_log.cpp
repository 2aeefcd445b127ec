#include "daemon/change_log.hpp"

#include <spdlog/spdlog.h>

#include "policy/verdict.hpp"

namespace fedprobe {

void ChangeLog::jobs_changed(std::span<LiveJob* const> jobs) {
    std::map<std::string, std::string> kept;
    for (LiveJob* lj : jobs)
        if (auto it = notices_.find(lj->job.key()); it != notices_.end()) kept.insert(*it);
    notices_ = std::move(kept);
}

void ChangeLog::finished(LiveJob& lj, const RoundReport& round) {
    const ProbeResult& result = round.result;
    if (result.overload) return;  // counted by the metrics; says nothing about the network
    if (!result.notice.empty()) {
        std::string& last = notices_[lj.job.key()];
        if (last != result.notice)
            spdlog::info("{} {}: {}", lj.job.target->id, lj.job.spec->str(), result.notice);
        last = result.notice;
    }
    if (lj.last_outcome == result.outcome && lj.last_reporter == result.reporter) return;
    // A router's rate limit flips a flow between its answer and silence: one fault, one line.
    if (round.same_answer) return;
    const std::string was = lj.last_outcome ? std::string(to_string(*lj.last_outcome)) : "new";
    const std::string& reporter_network = round.reporter_network;
    if (const Flow* flow = lj.job.flow) {
        Verdict verdict = judge(flow->expect, result.outcome);
        // A deny flow that connects is the alert that matters most: warn, not inform.
        auto level = verdict == Verdict::violation ? spdlog::level::warn : spdlog::level::info;
        // The detail of a failure says why (an application check's NAK, the hops to the device
        // that reset the data); an ok flow needs none.
        spdlog::log(
            level, "flow {} to {} ({} {}): {} -> {}{}, {}{}", flow->id, lj.job.target->id,
            to_string(flow->expect), flow->service, was, to_string(result.outcome),
            result.reporter ? " reported by " + result.reporter->str() + " in " + reporter_network
                            : "",
            to_string(verdict),
            result.outcome == Outcome::ok || result.detail.empty() ? ""
                                                                   : " (" + result.detail + ")");
        return;
    }
    if (result.outcome == Outcome::ok) {
        spdlog::info("{} {}: {} -> ok", lj.job.target->id, lj.job.spec->str(), was);
        return;
    }
    spdlog::info("{} {}: {} -> {}{}{} ({})", lj.job.target->id, lj.job.spec->str(), was,
                 to_string(result.outcome),
                 result.reporter ? " reported by " + result.reporter->str() : "",
                 result.reporter ? " in network " + reporter_network : "", result.detail);
}

void ChangeLog::flow_traced(LiveJob& lj, const ProbeResult& path_result) {
    const Flow* flow = lj.job.flow;
    if (!flow) return;
    if (lj.blocked_after())
        spdlog::info("flow {} to {} ({} {}): filtered {}", flow->id, lj.job.target->id,
                     to_string(flow->expect), flow->service, describe(*lj.blocked_after()));
    else if (path_result.outcome == Outcome::error)
        spdlog::warn("flow {} to {}: could not trace it: {}", flow->id, lj.job.target->id,
                     path_result.detail);
    else
        spdlog::info("flow {} to {} ({} {}): a trace of it reached the target", flow->id,
                     lj.job.target->id, to_string(flow->expect), flow->service);
}

}  // namespace fedprobe
