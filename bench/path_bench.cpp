// Benchmark of the path probe as the daemon runs it, with scamper side by side: the same Engine,
// PathProbe and metrics sink as `fedprobe run`, over N destinations behind a chain of router
// namespaces that bench/path_bench.sh builds (it runs this program inside the prober's namespace).
//
// Every round starts all N traces at once (the daemon spreads its first runs over the interval;
// here all are due together so that a round's wall time can be compared with what the rate
// limit allows). Per round it prints wall time, packets per trace (the probe's own count and the
// first router's nftables counter), CPU per trace (user+sys of this process, so the kernel's
// work for the sends is included) and how many traces reached. Then scamper traces the same
// destinations (`trace -P udp-paris` with the same attempts, wait, gap limit and max TTL) at the
// same packet rate, measured the same way. Prints numbers; asserts nothing.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/event_loop.hpp"
#include "engine/engine.hpp"
#include "exporters/prometheus_exporter.hpp"
#include "federation/loader.hpp"
#include "probes/path/path_probe.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;

namespace {

struct Options {
    int dests = 1000;
    int rate = 1000;  // packets per second, both tools
    int rounds = 3;
    int interval = 40;  // seconds: every trace is due again this long after the last round began
    std::string counter_cmd;  // prints the first router's packet count from the prober
    std::string dest_file;    // one destination per line
};

double seconds(const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
}
struct Cpu {
    double user = 0, total = 0;
};
Cpu cpu_of(const rusage& ru) {
    return {seconds(ru.ru_utime), seconds(ru.ru_utime) + seconds(ru.ru_stime)};
}
Cpu cpu_self() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return cpu_of(ru);
}

long wire_packets(const Options& o) {
    FILE* p = popen(o.counter_cmd.c_str(), "r");
    if (!p) return -1;
    long n = -1;
    if (std::fscanf(p, "%ld", &n) != 1) n = -1;
    pclose(p);
    return n;
}

std::vector<std::string> destinations(const Options& o) {
    std::vector<std::string> out;
    std::ifstream in(o.dest_file);
    for (std::string line; std::getline(in, line) && static_cast<int>(out.size()) < o.dests;)
        if (!line.empty()) out.push_back(line);
    return out;
}

std::shared_ptr<const Config> bench_config(const Options& o, const std::vector<std::string>& d) {
    std::string text =
        "[fedprobe]\nsite = \"prober\"\ntimeout = \"1s\"\nrate_limit = " + std::to_string(o.rate) +
        "\n[[networks]]\nid = \"prober\"\nprefixes = [\"10.98.0.1/32\"]\n"
        "[[networks]]\nid = \"core\"\nprefixes = [\"10.98.0.2/32\", \"10.98.1.0/24\", "
        "\"10.98.2.0/24\", \"10.98.3.0/24\", \"10.98.4.0/24\"]\n"
        "[[networks]]\nid = \"far\"\nprefixes = [\"10.99.0.0/16\"]\n";
    for (std::size_t i = 0; i < d.size(); ++i)
        text += "[[targets]]\nid = \"d" + std::to_string(i) +
                "\"\nnetwork = \"far\"\naddress = \"" + d[i] +
                "\"\nprobes = [\"path\"]\npath = { interval = \"" + std::to_string(o.interval) +
                "s\" }\n";
    auto r = load_config_text(text, "bench.toml", std::nullopt);
    for (const auto& diag : r.diagnostics)
        std::fprintf(stderr, "%s\n", diag.format().c_str());
    if (!r.config) std::exit(2);
    return r.config;
}

// Counts the round's finished traces.
class Tally : public ResultSink {
  public:
    std::size_t finished_count = 0, reached = 0, hops_total = 0;
    void jobs_changed(std::span<LiveJob* const>) override {}
    void finished(LiveJob&, const RoundReport& round) override {
        ++finished_count;
        if (const PathResult* p = round.result.as<PathKind>(); p && !p->flows.empty()) {
            if (p->flows[0].stop == PathStop::reached) ++reached;
            hops_total += static_cast<std::size_t>(p->flows[0].stop_ttl);
        }
    }
};

struct Figures {
    double wall = 0, cpu_per_trace_us = 0, user_per_trace_us = 0, packets_per_trace = 0,
           wire_per_trace = 0;
    std::size_t reached = 0, traces = 0;
    double mean_hops = 0;
};

void print(const char* tool, int round, const Figures& f, double ideal) {
    if (*tool) std::printf("%-8s %5d", tool, round);
    std::printf(" %8zu %8zu %9.2f %10.2f %10.2f %9.2f %10.1f %10.1f %9.2f\n", f.traces, f.reached,
                f.mean_hops, f.packets_per_trace, f.wire_per_trace, f.wall, f.cpu_per_trace_us,
                f.user_per_trace_us, f.wall - ideal);
}

std::vector<Figures> run_fedprobe(const Options& o, const std::vector<std::string>& d) {
    EventLoop loop;
    if (Status st = loop.init(); !st.ok()) {
        std::fprintf(stderr, "event loop: %s\n", st.message().c_str());
        std::exit(2);
    }
    // The daemon's settings, except that a round's traces are all due at once.
    EngineSettings settings = EngineSettings::daemon();
    settings.spread_first_runs = false;
    Engine engine(loop, settings);
    PrometheusExporter exporter("bench");  // the daemon's sink: its per-hop series cost CPU too
    Tally tally;
    if (!engine.add_sink(exporter) || !engine.add_sink(tally)) {
        std::fprintf(stderr, "path_bench: the engine refused a sink\n");
        std::exit(1);
    }
    auto config = bench_config(o, d);
    std::vector<Figures> out;
    TimePoint round_start = loop.now();
    for (int round = 1; round <= o.rounds; ++round) {
        // Up to shortly before the round is due (the scheduler may start a job a few ms early),
        // then its counters: everything the round costs is in them.
        while (loop.now() + 300ms < round_start)
            loop.run_once(std::chrono::duration_cast<std::chrono::milliseconds>(
                round_start - 300ms - loop.now()));
        tally = Tally{};
        const long wire0 = wire_packets(o);
        const Cpu cpu0 = cpu_self();
        auto* probe = dynamic_cast<PathProbe*>(engine.probe_if_made(kind_index_of<PathKind>()));
        const std::uint64_t sent0 = probe ? probe->stats().packets_sent : 0;
        if (round == 1) {
            round_start = loop.now();
            engine.apply(config);  // every trace due now; the scheduler starts them all
        }
        while (tally.finished_count < d.size())
            loop.run_once(50ms);
        Figures f;
        f.wall = to_seconds(loop.now() - round_start);
        f.traces = tally.finished_count;
        f.reached = tally.reached;
        const Cpu cpu1 = cpu_self();
        f.cpu_per_trace_us = (cpu1.total - cpu0.total) * 1e6 / static_cast<double>(f.traces);
        f.user_per_trace_us = (cpu1.user - cpu0.user) * 1e6 / static_cast<double>(f.traces);
        probe = dynamic_cast<PathProbe*>(engine.probe_if_made(kind_index_of<PathKind>()));
        f.packets_per_trace = static_cast<double>(probe->stats().packets_sent - sent0) /
                              static_cast<double>(f.traces);
        f.wire_per_trace =
            static_cast<double>(wire_packets(o) - wire0) / static_cast<double>(f.traces);
        f.mean_hops = static_cast<double>(tally.hops_total) / static_cast<double>(f.traces);
        out.push_back(f);
        if (f.wall >= o.interval)
            std::fprintf(stderr, "round %d took %.1f s, longer than --interval %d s\n", round,
                         f.wall, o.interval);
        round_start += std::chrono::seconds(o.interval);
    }
    return out;
}

Figures run_scamper(const Options& o, std::size_t traces) {
    const long wire0 = wire_packets(o);
    const std::string out_file = "/tmp/fedprobe-path-bench-scamper.json";
    const auto t0 = std::chrono::steady_clock::now();
    pid_t pid = fork();
    if (pid == 0) {
        const std::string rate = std::to_string(o.rate);
        // The same trace as fedprobe's defaults: 2 attempts, 1 s wait, gap limit 5, max TTL 30,
        // one source port for every destination (Paris).
        execlp("scamper", "scamper", "-O", "json", "-o", out_file.c_str(), "-p", rate.c_str(), "-c",
               "trace -P udp-paris -q 2 -w 1 -g 5 -m 30 -s 40000 -d 33434", "-f",
               o.dest_file.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    int status = 0;
    rusage ru{};
    wait4(pid, &status, 0, &ru);
    Figures f;
    f.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const Cpu cpu = cpu_of(ru);
    f.traces = traces;
    f.cpu_per_trace_us = cpu.total * 1e6 / static_cast<double>(traces);
    f.user_per_trace_us = cpu.user * 1e6 / static_cast<double>(traces);
    const long wire = wire_packets(o) - wire0;
    f.wire_per_trace = static_cast<double>(wire) / static_cast<double>(traces);
    // scamper's own probe count and stop reasons, from its JSON (one object per line).
    std::ifstream in(out_file);
    std::size_t probes = 0, hops = 0;
    for (std::string line; std::getline(in, line);) {
        if (line.find("\"type\":\"trace\"") == std::string::npos) continue;
        if (line.find("\"stop_reason\":\"COMPLETED\"") != std::string::npos) ++f.reached;
        if (auto p = line.find("\"probe_count\":"); p != std::string::npos)
            probes += std::strtoul(line.c_str() + p + 14, nullptr, 10);
        if (auto p = line.find("\"hop_count\":"); p != std::string::npos)
            hops += std::strtoul(line.c_str() + p + 12, nullptr, 10);
    }
    f.packets_per_trace = static_cast<double>(probes) / static_cast<double>(traces);
    f.mean_hops = static_cast<double>(hops) / static_cast<double>(traces);
    std::remove(out_file.c_str());
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        std::fprintf(stderr, "scamper exited with status %d\n", status);
    return f;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--dests")
            o.dests = std::atoi(argv[i + 1]);
        else if (a == "--rate")
            o.rate = std::atoi(argv[i + 1]);
        else if (a == "--rounds")
            o.rounds = std::atoi(argv[i + 1]);
        else if (a == "--interval")
            o.interval = std::atoi(argv[i + 1]);
        else if (a == "--counter-cmd")
            o.counter_cmd = argv[i + 1];
        else if (a == "--dest-file")
            o.dest_file = argv[i + 1];
        else {
            std::fprintf(stderr, "unknown option %s\n", a.c_str());
            return 2;
        }
    }
    if (o.counter_cmd.empty() || o.dest_file.empty()) {
        std::fprintf(stderr,
                     "run through bench/path_bench.sh: it builds the namespaces and passes "
                     "--counter-cmd and --dest-file\n");
        return 2;
    }
    auto d = destinations(o);
    std::printf("path_bench: %zu destinations, %d packets/s for both tools\n", d.size(), o.rate);
    std::printf("%-8s %5s %8s %8s %9s %10s %10s %9s %10s %10s %9s\n", "tool", "round", "traces",
                "reached", "mean_ttl", "pkts/trace", "wire/trace", "wall_s", "cpu_us/tr",
                "user_us/tr", "over_ideal");
    // The least time a round can take at the rate limit: its packets on the wire / rate.
    auto least = [&](const Figures& f) {
        return f.wire_per_trace * static_cast<double>(d.size()) / o.rate;
    };
    auto fed = run_fedprobe(o, d);
    for (std::size_t i = 0; i < fed.size(); ++i) {
        print("fedprobe", static_cast<int>(i + 1), fed[i], least(fed[i]));
    }
    std::vector<Figures> sc;
    for (int round = 1; round <= o.rounds; ++round) {
        sc.push_back(run_scamper(o, d.size()));
        print("scamper", round, sc.back(), least(sc.back()));
    }
    // CPU split by ticks is coarse per round: the means over rounds are the figures to quote.
    // fedprobe's first round learns each path (a window of 8 TTLs); later rounds are steady.
    auto mean = [&](const std::vector<Figures>& v, std::size_t from) {
        Figures m;
        for (std::size_t i = from; i < v.size(); ++i) {
            m.traces += v[i].traces;
            m.reached += v[i].reached;
            m.wall += v[i].wall;
            m.cpu_per_trace_us += v[i].cpu_per_trace_us;
            m.user_per_trace_us += v[i].user_per_trace_us;
            m.packets_per_trace += v[i].packets_per_trace;
            m.wire_per_trace += v[i].wire_per_trace;
            m.mean_hops += v[i].mean_hops;
        }
        const double n = static_cast<double>(v.size() - from);
        for (double* x : {&m.wall, &m.cpu_per_trace_us, &m.user_per_trace_us, &m.packets_per_trace,
                          &m.wire_per_trace, &m.mean_hops})
            *x /= n;
        m.traces /= v.size() - from;
        m.reached /= v.size() - from;
        return m;
    };
    if (fed.size() > 1 && !sc.empty()) {
        const Figures f = mean(fed, 1), s = mean(sc, 0);
        std::printf("%-8s %5s", "fedprobe", "2..");
        print("", 0, f, least(f));
        std::printf("%-8s %5s", "scamper", "mean");
        print("", 0, s, least(s));
        std::printf(
            "fedprobe/scamper, steady rounds: packets %.2fx, cpu %.2fx, user cpu %.2fx, "
            "wall %.2fx\n",
            f.wire_per_trace / s.wire_per_trace, f.cpu_per_trace_us / s.cpu_per_trace_us,
            f.user_per_trace_us / s.user_per_trace_us, f.wall / s.wall);
    }
    std::printf(
        "cpu_us/tr: user+sys per trace; sys includes the kernel forwarding the probes\n"
        "through the router namespaces in the sender's context, the same for both tools.\n"
        "over_ideal: wall time minus (wire packets / rate), the least the rate limit "
        "allows\n");
    return 0;
}
