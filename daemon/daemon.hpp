// `fedprobe run`: ties config, scheduler, probes and exporter together on one event loop.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "config/loader.hpp"
#include "config/network_index.hpp"
#include "daemon/event_loop.hpp"
#include "daemon/jobs.hpp"
#include "daemon/scheduler.hpp"
#include "exporters/basic_auth.hpp"
#include "exporters/prometheus_exporter.hpp"
#include "probes/dns_probe.hpp"
#include "probes/http_probe.hpp"
#include "probes/icmp_probe.hpp"
#include "probes/tcp_probe.hpp"
#include "probes/udp_probe.hpp"

namespace prometheus {
class Exposer;
}

namespace fedprobe {

class Daemon {
  public:
    Daemon(std::string config_path, std::optional<std::string> site_override);
    ~Daemon();
    int run();  // the process exit code

  private:
    // One per (target, probe). The same object lives across reloads while its key stays, so
    // the scheduler and in-flight probes can hold a pointer instead of looking up a string.
    struct LiveJob {
        Job job;
        std::optional<Outcome> last_outcome;
        std::optional<IpAddress> last_reporter;
        PrometheusExporter::Series* series = nullptr;
        FlowSeriesSet::Series* flow_series = nullptr;
        int in_flight = 0;
        bool removed = false;  // left the config while a probe ran: dropped when it returns
    };

    std::string config_path_;
    std::optional<std::string> site_override_;
    EventLoop loop_;
    Scheduler scheduler_;
    std::shared_ptr<const Config> config_;
    std::unordered_map<std::string, std::unique_ptr<LiveJob>> jobs_;
    std::vector<std::unique_ptr<LiveJob>> retired_;
    NetworkIndex network_index_;
    PrometheusExporter exporter_;
    std::unique_ptr<BasicAuth> auth_;
    std::unique_ptr<prometheus::Exposer> exposer_;
    std::unique_ptr<TcpProbe> tcp_;
    std::unique_ptr<IcmpProbe> icmp_;
    std::unique_ptr<UdpProbe> udp_;
    std::unique_ptr<DnsProbe> dns_;
    std::unique_ptr<HttpProbe> http_;
    int signal_fd_ = -1;
    EventLoop::TimerId tick_timer_ = 0;
    TimePoint tick_at_ = TimePoint::max();
    std::size_t in_flight_ = 0;
    std::uint64_t overruns_seen_ = 0;
    std::map<std::string, std::uint64_t> rate_limited_seen_;

    bool open_signals();
    bool start_exposer();
    void stop_exposer();
    void apply(std::shared_ptr<const Config> config);
    void reload();
    void on_signal();
    void arm_tick();
    void tick();
    void start_job(const Scheduler::Start& start);
    Probe& probe_for(const std::string& kind);
    void on_result(LiveJob* job, JobHandle handle, const ProbeResult& result);
    void on_flow_result(LiveJob& job, const ProbeResult& result,
                        const std::string& reporter_network);
    void every_few_seconds();
    std::string status_line() const;
};

}  // namespace fedprobe
