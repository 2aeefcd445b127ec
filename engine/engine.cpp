#include "engine/engine.hpp"

#include <algorithm>

#include "probes/kinds.hpp"

namespace fedprobe {

std::unique_ptr<Probe> Engine::real_probe(std::size_t kind, EventLoop& loop) {
    return visit_kind(kind, [&]<typename K>() { return K::make_probe(loop); });
}

Engine::Engine(EventLoop& loop, EngineSettings settings, ProbeFactory probes, Now now)
    : loop_(loop), settings_(settings), factory_(std::move(probes)), now_(std::move(now)) {
    scheduler_.set_slack(settings_.scheduler_slack);
}

Engine::~Engine() {
    if (tick_timer_) loop_.cancel_timer(tick_timer_);
    // Probes first: they hold sockets and timers on the loop, and callbacks into the jobs.
    for (auto& p : probes_)
        p.reset();
}

bool Engine::add_sink(ResultSink& sink) {
    if (sinks_.size() >= LiveJob::kMaxSinks) return false;
    sink.slot = sinks_.size();
    sinks_.push_back(&sink);
    if (!order_.empty()) sink.jobs_changed(order_);
    return true;
}

Probe& Engine::probe(std::size_t kind) {
    if (!probes_[kind]) probes_[kind] = factory_(kind, loop_);
    return *probes_[kind];
}

Engine::Change Engine::apply(std::shared_ptr<const Config> config) {
    auto jobs = build_jobs(*config);
    return apply(std::move(config), std::move(jobs));
}

Engine::Change Engine::apply(std::shared_ptr<const Config> config, std::vector<Job> jobs) {
    Change change;
    // The running jobs by key, only while the new set is matched against them: a map kept for
    // the engine's life would cost 6 MB at 100,000 jobs.
    std::unordered_map<std::string, std::size_t> running;
    running.reserve(jobs_.size());
    for (std::size_t i = 0; i < jobs_.size(); ++i)
        running.emplace(jobs_[i]->job.key(), i);
    std::vector<std::unique_ptr<LiveJob>> live;
    live.reserve(jobs.size());
    for (auto& job : jobs) {
        std::unique_ptr<LiveJob> lj;
        std::string key = job.key();
        if (auto old = running.find(key); old != running.end()) {
            lj = std::move(jobs_[old->second]);  // kept: its last outcome and sinks' state
            running.erase(old);
            ++change.kept;
        } else {
            lj = std::make_unique<LiveJob>();
            change.added.push_back(std::move(key));
        }
        lj->job = std::move(job);
        if (lj->job.flow && !lj->flow_trace)
            lj->flow_trace = std::make_unique<LiveJob::FlowTrace>();
        live.push_back(std::move(lj));
    }
    running = {};
    for (auto& lj : jobs_) {  // what is left has departed
        if (!lj) continue;
        change.removed.push_back(lj->job.key());
        if (lj->in_flight > 0) {
            lj->removed = true;
            retired_.push_back(std::move(lj));
        }
    }
    for (const auto& net : config->networks) {
        double rate = config->rate_limit_for(net.id);
        scheduler_.set_rate_limit(net.id, rate, RateLimiter::default_burst(rate));
    }
    network_index_ = std::make_shared<NetworkIndex>(network_index_for_site(*config));
    std::vector<JobSpec> specs;
    specs.reserve(live.size());
    for (auto& lj : live) {
        lj->job.request.pacer = scheduler_.limiter(lj->job.target->network);
        lj->job.request.networks = network_index_;
        specs.push_back(JobSpec{lj->job.interval, lj->job.target->network, lj.get(), lj->schedule});
    }
    auto handles = scheduler_.set_jobs(specs, now(), settings_.spread_first_runs);
    specs = {};
    for (std::size_t i = 0; i < live.size(); ++i)
        live[i]->schedule = handles[i];
    jobs_ = std::move(live);
    order_.clear();
    order_.reserve(jobs_.size());
    for (auto& lj : jobs_)
        order_.push_back(lj.get());
    for (auto* sink : sinks_)
        sink->jobs_changed(order_);
    config_ = std::move(config);  // the old config lives until here; jobs point into the new one
    arm_tick();
    return change;
}

void Engine::arm_tick() {
    auto next = scheduler_.next_wakeup();
    if (!next) return;
    if (tick_timer_ && *next >= tick_at_) return;  // an earlier wake-up is already set
    if (tick_timer_) loop_.cancel_timer(tick_timer_);
    tick_at_ = *next;
    tick_timer_ = loop_.add_timer(*next, [this] {
        tick_timer_ = 0;
        tick_at_ = TimePoint::max();
        run_due(now());
    });
}

void Engine::run_due(TimePoint at) {
    std::size_t since_drain = 0;
    for (const auto& s : scheduler_.due(at)) {
        start(s);
        if (++since_drain == settings_.starts_between_drains) {
            since_drain = 0;
            loop_.drain();
        }
    }
    arm_tick();
}

void Engine::start(const Scheduler::Start& s) {
    auto* lj = static_cast<LiveJob*>(s.user);
    for (auto* sink : sinks_)
        sink->started(*lj, s.lag);
    lj->started_late = s.late > settings_.late_start_bound;
    ++in_flight_;
    ++lj->in_flight;
    // Two pointers: std::function keeps them inline (see LiveJob::started_late).
    probe(lj->job.spec->kind).start(lj->job.request, [this, lj](ProbeResult result) {
        on_result(lj, std::move(result));
    });
}

void Engine::release_if_removed(LiveJob* lj) {
    if (lj->removed && lj->in_flight == 0)
        std::erase_if(retired_, [lj](const std::unique_ptr<LiveJob>& p) { return p.get() == lj; });
}

void Engine::on_result(LiveJob* lj, ProbeResult result) {
    --in_flight_;
    --lj->in_flight;
    // The job's current handle: the same as at the start, or a new one (its interval changed
    // meanwhile) that set_jobs started in flight for this round. A departed job's is stale.
    scheduler_.finished(lj->schedule);
    if (lj->removed) {  // left the config while it ran
        release_if_removed(lj);
        return;
    }
    if (!result.overload && lj->started_late) result.overload = Overload::late_start;
    const std::optional<Overload> overload = result.overload;
    if (overload) ++overloaded_[lj->job.spec->kind][static_cast<std::size_t>(*overload)];
    static const std::string kNoReporter;
    const std::string& reporter_network =
        result.reporter ? network_index_->lookup(*result.reporter) : kNoReporter;
    if (!overload && result.outcome == Outcome::unreachable && result.reporter)
        note_unreachable(*lj, result);
    // Only flows are ever traced; the clock is read for them alone.
    const TimePoint at = lj->job.flow ? now() : TimePoint{};
    // A silent round after a device answered is that device's rate limit, not a new fault:
    // neither a new story nor a trace of it.
    const AnswerStory story =
        lj->flow_trace && !overload ? remember_answer(*lj, result, at) : AnswerStory{};
    // A flow that leaves its state has a new story: its next silent drop is traced at once, not
    // blocked_trace_every after a trace of an earlier fault (blame needs it within a round).
    if (lj->flow_trace && !overload && !lj->flow_trace->tracing && !story.same &&
        lj->last_outcome != result.outcome)
        lj->flow_trace->traced_at.reset();
    const bool trace = lj->job.flow && !story.held && should_trace(*lj, result, at);
    // Where a silent flow dies is the answer's device when one answered: a trace's last hop
    // under a router's rate limit says less.
    if (lj->flow_trace && !overload && (result.outcome != Outcome::filtered || story.held))
        lj->flow_trace->blocked_after.reset();
    RoundReport round{result, reporter_network, trace, story.same};
    for (auto* sink : sinks_)
        sink->finished(*lj, round);
    if (!overload) {
        lj->last_outcome = result.outcome;
        lj->last_reporter = result.reporter;
    }
    if (trace) start_trace(lj, at);
}

void Engine::note_unreachable(const LiveJob& lj, const ProbeResult& result) {
    const TimePoint at = now();
    // Expired entries go once per answer_memory, not at every answer: in an outage of many
    // targets each would otherwise scan every address (lookups check the age themselves).
    if (at >= next_unreachable_sweep_) {
        std::erase_if(unreachable_,
                      [&](const auto& e) { return at - e.second.at > settings_.answer_memory; });
        next_unreachable_sweep_ = at + settings_.answer_memory;
    }
    unreachable_.insert_or_assign(
        lj.job.request.destination.bytes,
        LiveJob::FlowTrace::Answer{Outcome::unreachable, *result.reporter,
                                   network_index_->lookup(*result.reporter), at});
}

Engine::AnswerStory Engine::remember_answer(LiveJob& lj, const ProbeResult& result, TimePoint at) {
    auto& answer = lj.flow_trace->answer;
    const bool answered =
        result.outcome == Outcome::unreachable || result.outcome == Outcome::prohibited;
    if (answered && result.reporter) {
        const bool same =
            answer && answer->outcome == result.outcome && answer->reporter == *result.reporter;
        answer = LiveJob::FlowTrace::Answer{result.outcome, *result.reporter,
                                            network_index_->lookup(*result.reporter), at};
        return {true, same};
    }
    if (result.outcome == Outcome::filtered) {
        // Another job's newer "unreachable" for this address, given after the flow last worked.
        auto it = unreachable_.find(lj.job.request.destination.bytes);
        const auto& worked = lj.flow_trace->worked_at;
        if (it != unreachable_.end() && at - it->second.at <= settings_.answer_memory &&
            (!answer || it->second.at > answer->at) && (!worked || it->second.at > *worked) &&
            lj.job.flow->expect == Expectation::allow) {
            const bool same = answer && answer->reporter == it->second.reporter;
            const bool failing = lj.last_outcome && *lj.last_outcome != Outcome::ok;
            answer = it->second;
            // The fault it was already in, now told by a device: not a new story.
            return {true, same || failing};
        }
        if (answer && at - answer->at <= settings_.answer_memory) return {true, true};
    }
    if (result.outcome == Outcome::ok) lj.flow_trace->worked_at = at;
    answer.reset();
    return {};
}

bool Engine::should_trace(const LiveJob& lj, const ProbeResult& result, TimePoint at) const {
    // Only a silent drop hides where the flow dies: a reject or an unreachable names its reporter.
    if (!lj.job.flow || result.overload || lj.job.flow->expect != Expectation::allow) return false;
    const bool blocked = settings_.trace_blocked_flows && result.outcome == Outcome::filtered;
    const bool working = settings_.search_mtu_of_working_flows && result.outcome == Outcome::ok;
    if (!blocked && !working) return false;
    const LiveJob::FlowTrace& t = *lj.flow_trace;
    if (t.tracing) return false;
    return !t.traced_at || at - *t.traced_at >= settings_.blocked_trace_every;
}

void Engine::start_trace(LiveJob* lj, TimePoint at) {
    // path:SERVICE: the flow's own transport and port, so the trace crosses the same rules.
    const ProbeSpec spec{kind_index_of<PathKind>(), lj->job.flow->service};
    ProbeRequest request = request_for(*config_, *lj->job.target, spec);
    auto& params = request.params_of<PathKind>();
    // It explains the round that just ended: another job's path round of the same flow begun
    // before now may have crossed a firewall before the rule that drops the flow.
    params.fresh = true;
    // One Paris flow: where the flow dies is read from flow 0 alone, and the target's ECMP width
    // (path.flows) would multiply the packets a blocked flow's trace waits out at every silent
    // TTL, behind the network's pacer and the spacing of routers that rate-limit.
    params.flows = 1;
    if (lj->last_outcome == Outcome::ok) {  // check --mtu: the flow works; how large?
        params.mtu = true;
        params.mtu_every = 1;
    }
    request.pacer = lj->job.request.pacer;
    request.networks = network_index_;
    lj->flow_trace->tracing = true;
    lj->flow_trace->traced_at = at;
    ++lj->in_flight;
    ++in_flight_;
    ++blocked_traces_;
    probe(spec.kind).start(request,
                           [this, lj](ProbeResult result) { on_trace(lj, std::move(result)); });
}

void Engine::on_trace(LiveJob* lj, ProbeResult result) {
    --in_flight_;
    --lj->in_flight;
    LiveJob::FlowTrace& t = *lj->flow_trace;
    t.tracing = false;
    if (lj->removed) {
        release_if_removed(lj);
        return;
    }
    // A trace that could not run (a socket it could not open) said nothing about the network: the
    // next filtered round tries again rather than leave the flow without its blocked_after for
    // blocked_trace_every. Once: an error that lasts (no raw sockets) must not log a failed trace
    // every round.
    const bool failed = result.outcome == Outcome::error;
    if (failed && !t.retried) t.traced_at.reset();
    t.retried = failed && !t.retried;
    const PathResult* path = result.as<PathKind>();
    // A round since the trace began may have found the flow working again, or a device that
    // answered for it (whose word counts over the trace's last hop).
    if (path && lj->last_outcome == Outcome::filtered && !t.answer)
        t.blocked_after = blocked_after(*path);
    else
        t.blocked_after.reset();
    if (path) {
        t.path_mtu = path->mtu;
        t.middleboxes = path->flows.empty() ? std::vector<MiddleboxSeen>{}
                                            : middlebox_changes(path->flows.front());
    }
    for (auto* sink : sinks_)
        sink->flow_traced(*lj, result);
}

Engine::Stats Engine::stats() const {
    Stats s;
    s.in_flight = in_flight_;
    s.overruns = scheduler_.overruns();
    s.blocked_traces = blocked_traces_;
    s.rate_limited = scheduler_.rate_limited();
    s.overloaded = overloaded_;
    return s;
}

}  // namespace fedprobe
