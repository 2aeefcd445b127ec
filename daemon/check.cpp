#include "daemon/check.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "config/config_file.hpp"
#include "core/event_loop.hpp"
#include "engine/engine.hpp"
#include "federation/loader.hpp"
#include "federation/network_index.hpp"
#include "policy/report.hpp"
#include "policy/verdict.hpp"

namespace fedprobe {

namespace {

std::string rfc3339_now() {
    std::time_t t = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    return buf;
}

// Keeps each flow's first result and stops the loop once every flow has one and every trace of
// a blocked flow has ended (where it dies stays on the live job).
class Collector : public ResultSink {
  public:
    Collector(EventLoop& loop, std::size_t total) : loop_(loop), results_(total) {}
    void jobs_changed(std::span<LiveJob* const> jobs) override {
        index_.clear();
        for (std::size_t i = 0; i < jobs.size(); ++i)
            index_[jobs[i]->job.key()] = i;
    }
    void finished(LiveJob& job, const RoundReport& round) override {
        auto& slot = results_[index_.at(job.job.key())];
        if (slot) return;
        slot = round.result;
        reporter_networks_[job.job.key()] = round.reporter_network;
        ++done_;
        if (round.trace_follows) ++tracing_;
        progress();
    }
    void flow_traced(LiveJob& job, const ProbeResult& path) override {
        if (path.outcome == Outcome::error)
            trace_errors_.push_back(job.job.flow->id + " to " + job.job.target->id + ": " +
                                    path.detail);
        --tracing_;
        progress();
    }
    const std::optional<ProbeResult>& result(std::size_t i) const { return results_[i]; }
    const std::string& reporter_network(const std::string& key) { return reporter_networks_[key]; }
    const std::vector<std::string>& trace_errors() const { return trace_errors_; }

  private:
    void progress() {
        if (isatty(STDERR_FILENO)) {
            std::cerr << "\rchecking " << done_ << "/" << results_.size() << " flows";
            if (tracing_) std::cerr << ", tracing " << tracing_ << " filtered";
            std::cerr << "\033[K" << std::flush;
        }
        if (done_ == results_.size() && tracing_ == 0) loop_.stop();
    }
    EventLoop& loop_;
    std::vector<std::optional<ProbeResult>> results_;
    std::map<std::string, std::size_t> index_;
    std::map<std::string, std::string> reporter_networks_;
    std::size_t done_ = 0;
    std::size_t tracing_ = 0;
    std::vector<std::string> trace_errors_;
};

}  // namespace

int run_check(const CheckOptions& opt) {
    if (opt.format != "table" && opt.format != "json" && opt.format != "junit") {
        std::cerr << "fedprobe check: --format must be table, json or junit, not '" << opt.format
                  << "'\n";
        return 2;
    }
    auto loaded = load_config_file(opt.config, opt.site);
    for (const auto& d : loaded.diagnostics)
        if (d.severity == Diagnostic::Severity::error) std::cerr << d.format() << "\n";
    if (!loaded.config) return 2;
    const Config& config = *loaded.config;

    std::optional<CheckRun> baseline;
    if (!opt.baseline.empty()) {
        std::string error;
        // A saved run of 100,000 flows is about 40 MB; /dev/zero or a log file is no baseline.
        auto text = read_config_file(opt.baseline, 64u << 20, "a baseline");
        if (!text.ok()) {
            std::cerr << opt.baseline << ": cannot read the baseline: " << text.status().message()
                      << "\n";
            return 2;
        }
        baseline = check_run_from_json(*text, error);
        if (!baseline) {
            std::cerr << opt.baseline << ": not a fedprobe check result: " << error << "\n";
            return 2;
        }
    }

    auto jobs = build_flow_jobs(config, opt.flow_pattern);
    const std::size_t total = jobs.size();
    // A pattern that matches nothing checked nothing: a change-window script must not read
    // that as "compliant".
    if (!opt.flow_pattern.empty() && jobs.empty()) {
        std::string known;
        for (const Flow& f : config.flows)
            if (std::find(f.from.begin(), f.from.end(), config.settings.site) != f.from.end())
                known += (known.empty() ? "" : ", ") + f.id;
        std::cerr << "fedprobe check: --flow " << quote_excerpt(opt.flow_pattern)
                  << " matches none of " << config.settings.site << "'s flows"
                  << (known.empty() ? std::string(" (it has none)") : ": " + known) << "\n";
        return 2;
    }

    EventLoop loop;
    if (Status st = loop.init(); !st.ok()) {
        std::cerr << "fedprobe check: " << st.message() << "\n";
        return 2;
    }
    // The daemon's engine, with every flow due at once: only a network's rate limit spaces them
    // out, so a policy of mostly-filtered flows takes about one timeout, not one per flow.
    EngineSettings settings = EngineSettings::check();
    settings.trace_blocked_flows = opt.trace_blocked;
    settings.search_mtu_of_working_flows = opt.mtu;
    Engine engine(loop, settings);
    Collector collector(loop, total);
    if (!engine.add_sink(collector)) {
        std::cerr << "fedprobe check: internal error: the engine refused a result sink\n";
        return 2;
    }
    const auto started = loop.now();
    engine.apply(loaded.config, std::move(jobs));
    if (total > 0) loop.run();
    if (isatty(STDERR_FILENO)) std::cerr << "\r\033[K" << std::flush;
    const std::vector<LiveJob*>& live = engine.jobs();

    CheckRun run;
    run.site = config.settings.site;
    run.config = opt.config;
    run.started = rfc3339_now();
    run.duration_seconds = std::chrono::duration<double>(loop.now() - started).count();
    for (std::size_t i = 0; i < live.size(); ++i) {
        const Job& j = live[i]->job;
        const ProbeResult& r = *collector.result(i);
        Verdict v = judge(j.flow->expect, r.outcome);
        FlowRecord f;
        f.flow = j.flow->id;
        f.from = config.settings.site;
        f.to = j.target->id;
        f.network = j.target->network;
        f.address = j.request.destination.str();
        f.service = j.flow->service;
        f.proto = std::string(j.spec->name());
        f.port = j.request.port;
        f.expect = std::string(to_string(j.flow->expect));
        f.outcome = std::string(to_string(r.outcome));
        f.verdict = std::string(to_string(v));
        f.compliant = is_compliant(v);
        if (r.reporter) {
            f.reporter = r.reporter->str();
            f.reporter_network = collector.reporter_network(j.key());
        }
        f.duration_seconds = to_seconds(r.duration);
        f.note = j.flow->note;
        f.blocked_after = live[i]->blocked_after();
        f.path_mtu = live[i]->path_mtu();
        f.middlebox = live[i]->middleboxes();
        run.flows.push_back(std::move(f));
    }

    const bool colour = isatty(STDOUT_FILENO);
    if (opt.format == "json")
        std::cout << to_json(run);
    else if (opt.format == "junit")
        std::cout << to_junit(run);
    else
        std::cout << to_table(run, colour);
    if (!opt.save.empty()) {
        std::ofstream out(opt.save);
        out << to_json(run);
        if (!out) {
            std::cerr << opt.save << ": cannot write the result\n";
            return 2;
        }
    }
    if (total == 0) std::cerr << "no flows of the policy start from site '" << run.site << "'\n";
    // A failed trace leaves BLOCKED AFTER empty: say why, not only "-".
    for (const auto& e : collector.trace_errors())
        std::cerr << "could not trace the filtered flow " << e << " (--no-trace skips tracing)\n";
    if (baseline) {
        auto d = diff_against(*baseline, run);
        // The comparison goes where a person reads it; JSON and JUnit on stdout stay machine-clean.
        (opt.format == "table" ? std::cout : std::cerr)
            << "\n"
            << to_text(d, colour && opt.format == "table");
        return d.newly_broken.empty() && d.path_worse.empty() ? 0 : 1;
    }
    // A black hole fails the run as a broken flow does: the handshake works, full-size data
    // does not (a baseline run judges it as a worse path instead, above).
    std::size_t holes = 0;
    for (const auto& f : run.flows)
        holes += f.path_mtu && f.path_mtu->blackhole ? 1 : 0;
    if (holes > 0 && opt.format == "table")
        std::cout << holes << (holes == 1 ? " flow crosses" : " flows cross")
                  << " an MTU black hole: full-size packets are lost\n";
    return run.non_compliant() == 0 && holes == 0 ? 0 : 1;
}

}  // namespace fedprobe
