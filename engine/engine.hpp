// The engine: the event loop's one probing thread, the scheduler, one probe per kind of the
// table, the live jobs and the reload diff, with every finished round fanned out to sinks.
// `fedprobe run`, `fedprobe check`, the benchmarks and the tests all drive this same object;
// tests give it fake probes and call run_due() with a time of their own, without root.
//
// Threads: everything runs on the thread that runs the loop. Nothing here is thread-safe.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/event_loop.hpp"
#include "engine/jobs.hpp"
#include "engine/scheduler.hpp"
#include "engine/sink.hpp"
#include "federation/config.hpp"
#include "federation/network_index.hpp"

namespace fedprobe {

struct EngineSettings {
    // Probes due within this of each other start in one wake-up of the loop. A job starts
    // early by at most this and at most a tenth of its own interval (the scheduler's cap), and
    // keeps its phase: the next round is due an interval after this one's slot, not after its
    // start. Bigger batches keep the send path warm: at 1,000 icmp targets a second the
    // probing thread used 100 ms of CPU in 10 s with 20 ms of slack, 81 ms with 100 ms and
    // 75 ms with 200 ms (fping: 88 ms); at 10,000 targets it made no difference.
    Duration scheduler_slack = std::chrono::milliseconds(100);
    // Within one wake-up, the probes' sockets are drained after every this many starts. On a
    // near network the replies are there as soon as the requests are sent; read between
    // stretches, they end their rounds at once, so the rounds waiting in memory stay near this
    // many instead of a whole wake-up's (10,000 at 100,000 targets a second), and a burst never
    // fills a socket's receive buffer.
    std::size_t starts_between_drains = 512;  // 0: only between wake-ups
    // First runs spread over the interval (the daemon) or all at once within the rate limit
    // (check).
    bool spread_first_runs = true;
    // A round that starts later than this after its slot says more about the prober than the
    // network: it is counted as overload, not as a verdict.
    Duration late_start_bound = std::chrono::seconds(1);
    // An allow flow that ends filtered is traced with path:SERVICE to find the last hop that
    // answered, at most once per flow per this long (check: once per run).
    bool trace_blocked_flows = true;
    Duration blocked_trace_every = std::chrono::minutes(10);
    // check --mtu: allow flows that work are traced too, once, with a path MTU search, so a
    // change that left handshakes working but broke full-size packets is seen.
    bool search_mtu_of_working_flows = false;
    // A flow's last answered failure (unreachable or prohibited, from a reporter) stands for the
    // silent rounds after it for this long: routers rate-limit their ICMP errors (Linux: one a
    // second per source, with a burst of 6; Cisco: one per 500 ms), and every probe of every
    // target behind the same router draws on that allowance, so of a failing flow's rounds only
    // some get the answer. Without it the flow would flap between "unreachable from X" and a
    // silent drop that blame traces to somewhere else.
    // A router's "unreachable" to any job of the same destination address counts for a flow's
    // silent round too: no route is about the address, not the port, and the jobs of one
    // appliance share the router's allowance, so a flow may never get an answer of its own
    // (a "prohibited" is about one port, and is not shared).
    Duration answer_memory = std::chrono::seconds(30);

    // What `fedprobe run` uses; benchmarks use the same.
    static EngineSettings daemon() { return {}; }
    static EngineSettings check() {
        EngineSettings s;
        s.spread_first_runs = false;
        s.blocked_trace_every = Duration::max();
        return s;
    }
};

class Engine {
  public:
    using ProbeFactory = std::function<std::unique_ptr<Probe>(std::size_t kind, EventLoop& loop)>;
    using Now = std::function<TimePoint()>;

    // The table's own probes (each kind's make_probe).
    static std::unique_ptr<Probe> real_probe(std::size_t kind, EventLoop& loop);

    // `now` defaults to the loop's clock. Probes are made on first use.
    Engine(EventLoop& loop, EngineSettings settings, ProbeFactory probes = &Engine::real_probe,
           Now now = {});
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Sinks see every job change and result from now on; they must outlive the engine. At most
    // LiveJob::kMaxSinks: a further one is refused (false), as a programming error.
    [[nodiscard]] bool add_sink(ResultSink& sink);

    // What a load or reload changed, by job key.
    struct Change {
        std::vector<std::string> added, removed;
        std::size_t kept = 0;
    };
    // Runs `jobs` (built from `config`) from now on: kept jobs (same key) keep their state and
    // series, and their phase too unless their interval changed; new ones are spread over their
    // interval; departed ones stop (a probe still running is dropped when it returns). `config`
    // is kept alive.
    Change apply(std::shared_ptr<const Config> config, std::vector<Job> jobs);
    // The jobs config.settings.site runs (build_jobs).
    Change apply(std::shared_ptr<const Config> config);

    // Starts every job due at `now`. The loop's timer calls it; tests call it directly.
    void run_due(TimePoint now);

    struct Stats {
        std::size_t in_flight = 0;
        std::uint64_t overruns = 0;        // rounds skipped: the previous round still ran
        std::uint64_t blocked_traces = 0;  // traces of blocked flows started
        std::map<std::string, std::uint64_t> rate_limited;  // by destination network
        // Rounds that measured the prober, by kind and reason (kAllOverloads order).
        std::array<std::array<std::uint64_t, kAllOverloads.size()>, kKindCount> overloaded{};
    };
    Stats stats() const;
    const Config& config() const { return *config_; }
    std::size_t size() const { return jobs_.size(); }
    // Jobs in config order (valid until the next apply).
    const std::vector<LiveJob*>& jobs() const { return order_; }
    // The probe of a kind, made if need be (for its own statistics).
    Probe& probe(std::size_t kind);
    // The probe of a kind if one was made, else null.
    Probe* probe_if_made(std::size_t kind) const { return probes_[kind].get(); }

  private:
    EventLoop& loop_;
    EngineSettings settings_;
    ProbeFactory factory_;
    Now now_;
    Scheduler scheduler_;
    std::array<std::unique_ptr<Probe>, kKindCount> probes_;
    std::shared_ptr<const Config> config_;
    std::shared_ptr<const NetworkIndex> network_index_ = std::make_shared<NetworkIndex>();
    std::vector<std::unique_ptr<LiveJob>> jobs_;  // in config order
    std::vector<LiveJob*> order_;                 // the same, as sinks take them
    std::vector<std::unique_ptr<LiveJob>> retired_;
    std::vector<ResultSink*> sinks_;
    EventLoop::TimerId tick_timer_ = 0;
    TimePoint tick_at_ = TimePoint::max();
    std::size_t in_flight_ = 0;
    std::uint64_t blocked_traces_ = 0;
    std::array<std::array<std::uint64_t, kAllOverloads.size()>, kKindCount> overloaded_{};
    // The last "unreachable" any job got for each destination address (see answer_memory):
    // one entry per address that was answered so, dropped once older than answer_memory.
    std::map<std::array<std::uint8_t, 16>, LiveJob::FlowTrace::Answer> unreachable_;
    TimePoint next_unreachable_sweep_{};

    TimePoint now() const { return now_ ? now_() : loop_.now(); }
    void arm_tick();
    void start(const Scheduler::Start& start);
    void on_result(LiveJob* job, ProbeResult result);
    bool should_trace(const LiveJob& lj, const ProbeResult& result, TimePoint at) const;
    // Keeps or clears a flow's last answered failure for this round: `held` when an answer
    // stands for it (its own, or another job's "unreachable" for its address), `same` when the
    // round goes on the story of that answer (the same answer again, or silence after it).
    struct AnswerStory {
        bool held = false, same = false;
    };
    AnswerStory remember_answer(LiveJob& lj, const ProbeResult& result, TimePoint at);
    // Notes a job's "unreachable" for its destination address.
    void note_unreachable(const LiveJob& lj, const ProbeResult& result);
    void start_trace(LiveJob* lj, TimePoint at);
    void on_trace(LiveJob* lj, ProbeResult result);
    // Drops a job that left the config once nothing of it runs any more.
    void release_if_removed(LiveJob* lj);
};

}  // namespace fedprobe
