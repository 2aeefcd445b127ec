#include "daemon/check.hpp"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "config/loader.hpp"
#include "config/network_index.hpp"
#include "daemon/event_loop.hpp"
#include "daemon/jobs.hpp"
#include "daemon/rate_limiter.hpp"
#include "policy/report.hpp"
#include "policy/verdict.hpp"
#include "probes/tcp_probe.hpp"
#include "probes/udp_probe.hpp"

namespace fedprobe {

namespace {

std::string rfc3339_now() {
    std::time_t t = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    return buf;
}

bool read_file(const std::string& path, std::string& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::ostringstream s;
    s << in.rdbuf();
    out = s.str();
    return true;
}

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
        std::string text, error;
        if (!read_file(opt.baseline, text)) {
            std::cerr << opt.baseline << ": cannot read the baseline\n";
            return 2;
        }
        baseline = check_run_from_json(text, error);
        if (!baseline) {
            std::cerr << opt.baseline << ": not a fedprobe check result: " << error << "\n";
            return 2;
        }
    }

    auto jobs = build_flow_jobs(config, opt.flow_pattern);
    NetworkIndex index = network_index_for_site(config);

    EventLoop loop;
    if (auto err = loop.init(); !err.empty()) {
        std::cerr << "fedprobe check: " << err << "\n";
        return 2;
    }
    TcpProbe tcp(loop);
    UdpProbe udp(loop);
    std::map<std::string, RateLimiter> limits;
    std::vector<std::optional<ProbeResult>> results(jobs.size());
    std::size_t done = 0;
    const bool progress = isatty(STDERR_FILENO);
    const auto started = loop.now();
    // Every flow is started at once, except where a network's rate limit spaces them out: a
    // policy of mostly-filtered flows takes about one timeout, not one timeout per flow.
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        const std::string& net = jobs[i].target->network;
        auto it = limits.find(net);
        if (it == limits.end()) {
            double rate = config.rate_limit_for(net);
            it = limits.emplace(net, RateLimiter(rate, RateLimiter::default_burst(rate))).first;
        }
        TimePoint at = it->second.reserve(started);
        loop.add_timer(at, [&, i] {
            Probe& probe =
                jobs[i].spec.kind == "udp" ? static_cast<Probe&>(udp) : static_cast<Probe&>(tcp);
            probe.start(jobs[i].request, [&, i](ProbeResult r) {
                results[i] = std::move(r);
                ++done;
                if (progress)
                    std::cerr << "\rchecking " << done << "/" << jobs.size() << " flows"
                              << std::flush;
                if (done == jobs.size()) loop.stop();
            });
        });
    }
    if (!jobs.empty()) loop.run();
    if (progress) std::cerr << "\r\033[K" << std::flush;

    CheckRun run;
    run.site = config.settings.site;
    run.config = opt.config;
    run.started = rfc3339_now();
    run.duration_seconds = std::chrono::duration<double>(loop.now() - started).count();
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        const Job& j = jobs[i];
        const ProbeResult& r = *results[i];
        Verdict v = judge(j.flow->expect, r.outcome);
        FlowRecord f;
        f.flow = j.flow->id;
        f.from = config.settings.site;
        f.to = j.target->id;
        f.network = j.target->network;
        f.address = j.request.destination.str();
        f.service = j.flow->service;
        f.proto = j.spec.kind;
        f.port = j.request.port;
        f.expect = std::string(to_string(j.flow->expect));
        f.outcome = std::string(to_string(r.outcome));
        f.verdict = std::string(to_string(v));
        f.compliant = is_compliant(v);
        if (r.reporter) {
            f.reporter = r.reporter->str();
            f.reporter_network = index.lookup(*r.reporter);
        }
        f.duration_seconds = to_seconds(r.duration);
        f.note = j.flow->note;
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
    if (jobs.empty()) std::cerr << "no flows of the policy start from site '" << run.site << "'\n";
    if (baseline) {
        auto d = diff_against(*baseline, run);
        // The comparison goes where a person reads it; JSON and JUnit on stdout stay machine-clean.
        (opt.format == "table" ? std::cout : std::cerr)
            << "\n"
            << to_text(d, colour && opt.format == "table");
        return d.newly_broken.empty() ? 0 : 1;
    }
    return run.non_compliant() == 0 ? 0 : 1;
}

}  // namespace fedprobe
