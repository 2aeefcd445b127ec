// Benchmark of the ICMP engine as the daemon runs it: scheduler -> IcmpProbe -> exporter,
// over N loopback addresses (every address in 127/8 answers ping), one echo per probe.
// Prints probes/s, CPU-µs per probe (user+sys from getrusage), RSS and RSS per target, the
// RTT distribution, then runs fping on the same addresses and prints the CPU ratio.
// Needs root (raw sockets) or ping sockets allowed; sends only to 127.0.0.0/8.
#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "daemon/event_loop.hpp"
#include "daemon/scheduler.hpp"
#include "exporters/prometheus_exporter.hpp"
#include "probes/icmp_probe.hpp"

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
    std::size_t probes, failed;
    double p50_us, p99_us, max_us;
};

Figures run(std::size_t n, Duration interval, Duration measure, bool metrics) {
    long rss_base = rss_kib();
    EventLoop loop;
    if (auto e = loop.init(); !e.empty()) {
        std::fprintf(stderr, "%s\n", e.c_str());
        std::exit(1);
    }
    IcmpProbe probe(loop);
    Scheduler scheduler(1);
    scheduler.set_slack(std::chrono::milliseconds(5));  // as the daemon runs it
    std::vector<JobSpec> specs;
    std::vector<JobLabels> labels;
    std::vector<ProbeRequest> requests(n);
    for (std::size_t i = 0; i < n; ++i) {
        std::string key = "t" + std::to_string(i) + "/icmp";
        specs.push_back(JobSpec{key, "loopback", interval, &requests[i]});
        labels.push_back(JobLabels{key,
                                   {{"site", "bench"},
                                    {"network", "loopback"},
                                    {"target", "t" + std::to_string(i)},
                                    {"probe", "icmp"},
                                    {"service", ""}}});
        ProbeRequest r;
        r.destination = *IpAddress::parse(address(i));
        r.timeout = 1s;
        r.icmp.packets = 1;
        requests[i] = r;
    }
    PrometheusExporter exporter("bench");
    std::vector<PrometheusExporter::Series*> series(n, nullptr);
    if (metrics) {
        exporter.sync_jobs(labels);
        for (std::size_t i = 0; i < n; ++i)
            series[i] = exporter.find(labels[i].key);
    }
    scheduler.set_jobs(specs, loop.now());
    // Set-up lists the daemon does not keep either: what remains is what a running daemon holds.
    std::vector<JobSpec>().swap(specs);
    std::vector<JobLabels>().swap(labels);
    malloc_trim(0);

    bool measuring = false;
    std::size_t probes = 0, failed = 0;
    std::vector<double> rtts_us;
    rtts_us.reserve(1 << 20);
    EventLoop::TimerId tick_timer = 0;
    std::function<void()> tick = [&] {
        tick_timer = 0;
        for (const auto& s : scheduler.due(loop.now())) {
            auto* req = static_cast<ProbeRequest*>(s.user);
            std::size_t i = static_cast<std::size_t>(req - requests.data());
            probe.start(*req, [&, i, handle = s.handle](ProbeResult r) {
                scheduler.finished(handle);
                if (metrics) exporter.record(series[i], r, "");
                if (!measuring) return;
                ++probes;
                if (r.outcome != Outcome::ok) ++failed;
                for (auto d : r.rtts)
                    if (rtts_us.size() < rtts_us.capacity()) rtts_us.push_back(to_seconds(d) * 1e6);
            });
        }
        if (auto next = scheduler.next_wakeup()) tick_timer = loop.add_timer(*next, tick);
    };
    tick();
    auto warm_until = loop.now() + interval + 500ms;  // first runs are spread over one interval
    while (loop.now() < warm_until)
        loop.run_once(50ms);
    long rss_loaded = rss_kib();
    measuring = true;
    double cpu0 = cpu_seconds(RUSAGE_SELF);
    auto t0 = loop.now();
    while (loop.now() < t0 + measure)
        loop.run_once(50ms);
    double cpu = cpu_seconds(RUSAGE_SELF) - cpu0;
    double wall = to_seconds(loop.now() - t0);
    measuring = false;
    if (tick_timer) loop.cancel_timer(tick_timer);
    while (probe.rounds_in_flight() > 0)
        loop.run_once(50ms);  // drain before the engine goes

    std::sort(rtts_us.begin(), rtts_us.end());
    auto pct = [&](double p) {
        return rtts_us.empty() ? 0 : rtts_us[static_cast<std::size_t>(p * (rtts_us.size() - 1))];
    };
    return Figures{static_cast<double>(probes) / wall,
                   probes ? cpu * 1e6 / static_cast<double>(probes) : 0,
                   static_cast<double>(rss_loaded) / 1024,
                   static_cast<double>(rss_loaded - rss_base) * 1024 / static_cast<double>(n),
                   probes,
                   failed,
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
    std::printf("%9s %10s %9s %9s %9s %12s %8s %8s %8s %8s\n", "targets", "probes/s", "cpu-us/p",
                "failed", "RSS-MiB", "RSS-B/target", "p50-us", "p99-us", "max-us", "probes");
    std::vector<double> ours;
    for (std::size_t n : sizes) {
        auto f = run(n, 1s, std::chrono::seconds(seconds), metrics);
        ours.push_back(f.cpu_us_per_probe);
        std::printf("%9zu %10.0f %9.2f %9zu %9.1f %12.0f %8.1f %8.1f %8.1f %8zu\n", n,
                    f.probes_per_s, f.cpu_us_per_probe, f.failed, f.rss_mib, f.rss_per_target_b,
                    f.p50_us, f.p99_us, f.max_us, f.probes);
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
