// Benchmark of the ICMP engine as the daemon runs it: the same Engine object, with the daemon's
// EngineSettings and its metrics sink, over N loopback addresses (every address in 127/8 answers
// ping), one echo per probe. Prints probes/s, CPU-µs per probe (user+sys from getrusage), RSS and
// RSS per target, the RTT distribution, then runs fping on the same addresses and prints the CPU
// ratio. Needs root (raw sockets) or ping sockets allowed; sends only to 127.0.0.0/8.
#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/event_loop.hpp"
#include "engine/engine.hpp"
#include "exporters/prometheus_exporter.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;

namespace {

double cpu_seconds(int who) {
    rusage ru{};
    getrusage(who, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

long rss_kib() {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
    return 0;
}

std::string address(std::size_t i) {  // 127.1.0.1 upwards, never the 127.0.0.0/24 of the host
    std::size_t n = i + 1;
    return "127." + std::to_string(1 + n / 65536) + "." + std::to_string((n / 256) % 256) + "." +
           std::to_string(n % 256);
}

struct Figures {
    double probes_per_s, cpu_us_per_probe, rss_mib, rss_per_target_b;
    std::size_t probes, failed, overloaded;
    double p50_us, p99_us, max_us;
};

// Counts what the daemon's sinks would see, while measuring.
class Counter : public ResultSink {
  public:
    bool measuring = false;
    std::size_t probes = 0, failed = 0, overloaded = 0;
    std::vector<double> rtts_us;
    void jobs_changed(std::span<LiveJob* const>) override {}
    void finished(LiveJob&, const RoundReport& round) override {
        if (!measuring) return;
        const ProbeResult& r = round.result;
        ++probes;
        if (r.overload)
            ++overloaded;
        else if (r.outcome != Outcome::ok)
            ++failed;
        if (const IcmpResult* icmp = r.as<IcmpKind>())
            for (auto d : icmp->rtts)
                if (rtts_us.size() < rtts_us.capacity()) rtts_us.push_back(to_seconds(d) * 1e6);
    }
};

// The federation the bench probes: one network on loopback, N icmp targets, as a config file
// would give them, with no rate limit to speak of.
std::shared_ptr<const Config> bench_config(std::size_t n, Duration interval) {
    auto c = std::make_shared<Config>();
    c->settings.site = "bench";
    c->settings.rate_limit = 1e9;
    c->networks.push_back(Network{"bench", NetworkKind::other, "bench", {}, std::nullopt});
    c->networks.push_back(
        Network{"loopback", NetworkKind::other, "loopback", {*Prefix::parse("127.0.0.0/8")}, {}});
    IcmpOptions icmp;
    icmp.packets = 1;
    // Shared by every target, as the loader shares equal tables and lists.
    const Boxed<IcmpOptions> options = icmp;
    const Boxed<std::vector<ProbeSpec>> probes =
        std::vector{ProbeSpec{kind_index_of<IcmpKind>(), ""}};
    for (std::size_t i = 0; i < n; ++i) {
        Target t;
        t.id = "t" + std::to_string(i);
        t.network = "loopback";
        t.address = *IpAddress::parse(address(i));
        t.probe_list = probes;
        t.interval = interval;
        t.timeout = 1s;
        std::get<Boxed<IcmpOptions>>(t.options) = options;
        c->targets.push_back(std::move(t));
    }
    return c;
}

Figures run(std::size_t n, Duration interval, Duration measure, bool metrics) {
    long rss_base = rss_kib();
    EventLoop loop;
    if (Status st = loop.init(); !st.ok()) {
        std::fprintf(stderr, "%s\n", st.message().c_str());
        std::exit(1);
    }
    // The very engine and settings `fedprobe run` uses, with its metrics sink.
    auto engine = std::make_unique<Engine>(loop, EngineSettings::daemon());
    PrometheusExporter exporter("bench");
    Counter counter;
    counter.rtts_us.reserve(1 << 20);
    if ((metrics && !engine->add_sink(exporter)) || !engine->add_sink(counter)) {
        std::fprintf(stderr, "icmp_bench: the engine refused a sink\n");
        std::exit(1);
    }
    engine->apply(bench_config(n, interval));
    malloc_trim(0);

    auto warm_until = loop.now() + interval + 500ms;  // first runs are spread over one interval
    while (loop.now() < warm_until)
        loop.run_once(50ms);
    long rss_loaded = rss_kib();
    counter.measuring = true;
    double cpu0 = cpu_seconds(RUSAGE_SELF);
    auto t0 = loop.now();
    while (loop.now() < t0 + measure)
        loop.run_once(50ms);
    double cpu = cpu_seconds(RUSAGE_SELF) - cpu0;
    double wall = to_seconds(loop.now() - t0);
    counter.measuring = false;
    engine.reset();  // its probes go first: nothing calls back into the sinks after this

    auto& rtts_us = counter.rtts_us;
    std::sort(rtts_us.begin(), rtts_us.end());
    auto pct = [&](double p) {
        return rtts_us.empty() ? 0 : rtts_us[static_cast<std::size_t>(p * (rtts_us.size() - 1))];
    };
    const std::size_t probes = counter.probes;
    return Figures{static_cast<double>(probes) / wall,
                   probes ? cpu * 1e6 / static_cast<double>(probes) : 0,
                   static_cast<double>(rss_loaded) / 1024,
                   static_cast<double>(rss_loaded - rss_base) * 1024 / static_cast<double>(n),
                   probes,
                   counter.failed,
                   counter.overloaded,
                   pct(0.5),
                   pct(0.99),
                   rtts_us.empty() ? 0 : rtts_us.back()};
}

struct FpingFigures {
    double cpu_us_per_probe = 0, probes_per_s = 0;
    std::size_t targets_with_loss = 0, targets_reported = 0;
    std::string error;  // fping's own refusal, if any
};

// fping over the first n addresses, `count` rounds, as fast as it goes (-i 0) with each target
// once a second (-p 1000): the same load as fedprobe's rows.
FpingFigures fping(std::size_t n, int count) {
    char path[] = "/tmp/fedprobe-bench-XXXXXX";
    int fd = mkstemp(path);
    std::string list;
    for (std::size_t i = 0; i < n; ++i)
        list += address(i) + "\n";
    if (write(fd, list.data(), list.size()) != static_cast<ssize_t>(list.size())) return {};
    close(fd);
    double before = cpu_seconds(RUSAGE_CHILDREN);
    auto t0 = std::chrono::steady_clock::now();
    std::string cmd = "fping -q -i 0 -p 1000 -c " + std::to_string(count) + " -f " + path + " 2>&1";
    FpingFigures f;
    if (FILE* p = popen(cmd.c_str(), "r")) {
        char line[512];
        while (std::fgets(line, sizeof line, p)) {
            std::string l(line);
            if (l.find("xmt/rcv/%loss") != std::string::npos) {
                ++f.targets_reported;
                if (l.find("/0%") == std::string::npos) ++f.targets_with_loss;
            } else if (l.find("error") != std::string::npos && f.error.empty()) {
                f.error = l.substr(0, l.find('\n'));
            }
        }
        pclose(p);
    }
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    unlink(path);
    double probes = static_cast<double>(n) * count;
    f.cpu_us_per_probe = (cpu_seconds(RUSAGE_CHILDREN) - before) * 1e6 / probes;
    f.probes_per_s = probes / wall;
    return f;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::size_t> sizes = {1000, 10000, 100000};
    int seconds = 5;
    bool metrics = true;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--seconds" && i + 1 < argc)
            seconds = std::atoi(argv[++i]);
        else if (a == "--no-metrics")
            metrics = false;
        else if (a == "--sizes" && i + 1 < argc) {
            sizes.clear();
            std::string s = argv[++i];
            for (std::size_t pos = 0; pos < s.size();) {
                auto comma = s.find(',', pos);
                sizes.push_back(std::stoul(s.substr(pos, comma - pos)));
                pos = comma == std::string::npos ? s.size() : comma + 1;
            }
        } else {
            std::fprintf(
                stderr,
                "usage: icmp_bench [--sizes 1000,10000,100000] [--seconds S] [--no-metrics]\n");
            return 2;
        }
    }
    char host[256] = {};
    gethostname(host, sizeof host);
    std::printf(
        "fedprobe ICMP engine benchmark: %ld cores, every target probed once per second, 1 echo "
        "per probe,\n"
        "%s, measured for %d s after one interval of warm-up\n\n",
        sysconf(_SC_NPROCESSORS_ONLN),
        metrics ? "with Prometheus series per target" : "engine only (no metrics)", seconds);
    std::printf("%9s %10s %9s %9s %10s %9s %12s %8s %8s %8s %8s\n", "targets", "probes/s",
                "cpu-us/p", "failed", "overloaded", "RSS-MiB", "RSS-B/target", "p50-us", "p99-us",
                "max-us", "probes");
    std::vector<double> ours;
    for (std::size_t n : sizes) {
        auto f = run(n, 1s, std::chrono::seconds(seconds), metrics);
        ours.push_back(f.cpu_us_per_probe);
        std::printf("%9zu %10.0f %9.2f %9zu %10zu %9.1f %12.0f %8.1f %8.1f %8.1f %8zu\n", n,
                    f.probes_per_s, f.cpu_us_per_probe, f.failed, f.overloaded, f.rss_mib,
                    f.rss_per_target_b, f.p50_us, f.p99_us, f.max_us, f.probes);
        std::fflush(stdout);
    }
    if (system("command -v fping >/dev/null 2>&1") != 0) {
        std::printf("\nfping not installed: no comparison\n");
        return 0;
    }
    std::printf(
        "\nfping 5.1 on the same addresses, 3 rounds, -i 0 -p 1000 (as fast as it goes):\n");
    std::printf("%9s %10s %9s %13s %20s\n", "targets", "probes/s", "cpu-us/p", "lossy-targets",
                "fping/fedprobe cpu");
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        auto f = fping(sizes[i], 3);
        if (!f.error.empty() || f.targets_reported != sizes[i]) {
            std::printf("%9zu  fping did not run it: %s\n", sizes[i],
                        f.error.empty() ? "incomplete output" : f.error.c_str());
            continue;
        }
        std::printf("%9zu %10.0f %9.2f %13zu %19.1fx\n", sizes[i], f.probes_per_s,
                    f.cpu_us_per_probe, f.targets_with_loss,
                    ours[i] > 0 ? f.cpu_us_per_probe / ours[i] : 0);
        std::fflush(stdout);
    }
    return 0;
}
