#include "daemon/daemon.hpp"

#include <prometheus/exposer.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "daemon/sd_notify.hpp"
#include "policy/verdict.hpp"

namespace fedprobe {

namespace {

// Probes due within this of each other start in one wake-up of the loop.
constexpr Duration kSchedulerSlack = std::chrono::milliseconds(5);

double unix_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void log_diagnostics(const std::vector<Diagnostic>& diagnostics) {
    for (const auto& d : diagnostics) {
        if (d.severity == Diagnostic::Severity::error)
            spdlog::error("{}", d.format());
        else
            spdlog::warn("{}", d.format());
    }
}

}  // namespace

Daemon::Daemon(std::string config_path, std::optional<std::string> site_override)
    : config_path_(std::move(config_path)),
      site_override_(std::move(site_override)),
      exporter_(FEDPROBE_VERSION) {}

Daemon::~Daemon() {
    // Probes first (they hold sockets and timers on the loop), then the HTTP threads.
    icmp_.reset();
    http_.reset();
    dns_.reset();
    udp_.reset();
    tcp_.reset();
    stop_exposer();
    if (signal_fd_ >= 0) close(signal_fd_);
}

void Daemon::stop_exposer() {
    if (!exposer_) return;
    std::atomic<bool> stopped{false};
    std::thread closer([&] {
        exposer_.reset();
        stopped = true;
    });
    // civetweb's listener thread polls for up to 2 s before it notices it should stop; a
    // connection to it wakes it at once, so SIGTERM ends the daemon well within a second.
    IpAddress wake = config_->settings.listen.address;
    if (wake == *IpAddress::parse("0.0.0.0")) wake = *IpAddress::parse("127.0.0.1");
    if (wake == *IpAddress::parse("::")) wake = *IpAddress::parse("::1");
    sockaddr_storage ss;
    socklen_t len = wake.to_sockaddr(config_->settings.listen.port, ss);
    for (int i = 0; i < 100 && !stopped; ++i) {
        int fd = socket(wake.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0) {
            connect(fd, reinterpret_cast<sockaddr*>(&ss), len);
            close(fd);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    closer.join();
}

bool Daemon::open_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return false;
    signal(SIGPIPE, SIG_IGN);
    signal_fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd_ < 0) return false;
    return loop_.add_fd(signal_fd_, EPOLLIN, [this](std::uint32_t) { on_signal(); }) == 0;
}

bool Daemon::start_exposer() {
    const auto& settings = config_->settings;
    try {
        // The HTTP threads only read the registry; all probing stays on this thread.
        // A stalled scraper must not hold one of the two threads for long. (No linger option:
        // an abortive close would cut large expositions short.)
        exposer_ = std::make_unique<prometheus::Exposer>(
            std::vector<std::string>{"listening_ports", settings.listen.str(), "num_threads", "2",
                                     "request_timeout_ms", "5000"});
    } catch (const std::exception& e) {
        spdlog::error("cannot listen on {} for /metrics: {}", settings.listen.str(), e.what());
        return false;
    }
    if (!settings.web.basic_auth_users.empty()) {
        auth_ = std::make_unique<BasicAuth>(settings.web.basic_auth_users,
                                            [this] { exporter_.auth_failed(); });
        exposer_->RegisterAuth(
            [this](const std::string& u, const std::string& p) { return auth_->check(u, p); },
            "fedprobe", "/metrics");
    }
    for (const auto& c : exporter_.collectables())
        exposer_->RegisterCollectable(c, "/metrics");
    spdlog::info("metrics on http://{}/metrics{}", settings.listen.str(),
                 auth_ ? " (basic auth)" : "");
    return true;
}

int Daemon::run() {
    if (auto err = loop_.init(); !err.empty()) {
        spdlog::error("{}", err);
        return 1;
    }
    auto loaded = load_config_file(config_path_, site_override_);
    log_diagnostics(loaded.diagnostics);
    if (!loaded.config) {
        spdlog::error("{}: not starting: the config has errors", config_path_);
        return 1;
    }
    if (!open_signals()) {
        spdlog::error("cannot set up signal handling: {}", std::strerror(errno));
        return 1;
    }
    tcp_ = std::make_unique<TcpProbe>(loop_);
    icmp_ = std::make_unique<IcmpProbe>(loop_);
    udp_ = std::make_unique<UdpProbe>(loop_);
    dns_ = std::make_unique<DnsProbe>(loop_);
    http_ = std::make_unique<HttpProbe>(loop_);
    apply(loaded.config);
    if (!start_exposer()) return 1;
    exporter_.config_reloaded(true, unix_now());
    spdlog::info("fedprobe {} running as site '{}' with {} ({} probes)", FEDPROBE_VERSION,
                 config_->settings.site, config_path_, jobs_.size());
    systemd::ready(status_line());
    every_few_seconds();
    loop_.run();
    systemd::stopping();
    spdlog::info("stopping");
    return 0;
}

void Daemon::apply(std::shared_ptr<const Config> config) {
    auto jobs = build_jobs(*config);
    std::unordered_map<std::string, std::unique_ptr<LiveJob>> live;
    std::vector<JobSpec> specs;
    std::vector<JobLabels> labels, flow_labels;
    for (auto& job : jobs) {
        std::unique_ptr<LiveJob> lj;
        if (auto old = jobs_.find(job.key); old != jobs_.end()) {
            lj = std::move(old->second);  // kept: its last outcome and in-flight count carry over
            jobs_.erase(old);
        } else {
            lj = std::make_unique<LiveJob>();
        }
        lj->job = std::move(job);
        specs.push_back(
            JobSpec{lj->job.key, lj->job.target->network, lj->job.target->interval, lj.get()});
        (lj->job.flow ? flow_labels : labels).push_back(JobLabels{lj->job.key, lj->job.labels});
        std::string key = lj->job.key;
        live.emplace(std::move(key), std::move(lj));
    }
    for (auto& [key, lj] : jobs_) {  // what is left has departed
        if (lj->in_flight > 0) {
            lj->removed = true;
            retired_.push_back(std::move(lj));
        }
    }
    for (const auto& net : config->networks) {
        double rate = config->rate_limit_for(net.id);
        scheduler_.set_rate_limit(net.id, rate, RateLimiter::default_burst(rate));
    }
    NetworkIndex index = network_index_for_site(*config);

    auto change = scheduler_.set_jobs(specs, loop_.now());
    exporter_.sync_jobs(labels);
    exporter_.sync_flows(flow_labels);
    for (auto& [key, lj] : live) {
        lj->series = lj->job.flow ? nullptr : exporter_.find(key);
        lj->flow_series = lj->job.flow ? exporter_.find_flow(key) : nullptr;
        Labels().swap(
            lj->job.labels);  // the series hold them now; rebuilt from the config on reload
    }
    jobs_ = std::move(live);
    network_index_ = std::move(index);
    config_ =
        std::move(config);  // the old config lives until here; jobs now point into the new one
    if (!change.added.empty() || !change.removed.empty())
        spdlog::info("config: {} probes added, {} removed, {} kept", change.added.size(),
                     change.removed.size(), change.kept.size());
    for (const auto& k : change.added)
        spdlog::debug("config: + {}", k);
    for (const auto& k : change.removed)
        spdlog::info("config: - {} (its series are removed)", k);
    arm_tick();
}

void Daemon::reload() {
    systemd::reloading();
    spdlog::info("reloading {}", config_path_);
    auto loaded = load_config_file(config_path_, site_override_);
    log_diagnostics(loaded.diagnostics);
    if (!loaded.config) {
        spdlog::error("reload rejected: {} has errors; still running the previous config",
                      config_path_);
        exporter_.config_reloaded(false, unix_now());
        systemd::ready(status_line() + "; last reload failed");
        return;
    }
    const auto& now = loaded.config->settings;
    const auto& was = config_->settings;
    if (now.listen.str() != was.listen.str())
        spdlog::warn("reload: listen changed to {}; still serving on {} until restarted",
                     now.listen.str(), was.listen.str());
    if (now.web.basic_auth_users != was.web.basic_auth_users)
        spdlog::warn("reload: basic_auth_users changed; restart fedprobe to apply it");
    apply(loaded.config);
    exporter_.config_reloaded(true, unix_now());
    spdlog::info("reload done: {} probes", jobs_.size());
    systemd::ready(status_line());
}

void Daemon::on_signal() {
    signalfd_siginfo info;
    while (read(signal_fd_, &info, sizeof info) == sizeof info) {
        if (info.ssi_signo == SIGHUP) {
            reload();
        } else {
            spdlog::info("signal {} received", strsignal(static_cast<int>(info.ssi_signo)));
            loop_.stop();
        }
    }
}

void Daemon::arm_tick() {
    auto next = scheduler_.next_wakeup();
    if (!next) return;
    if (tick_timer_ && *next >= tick_at_) return;  // an earlier wake-up is already set
    if (tick_timer_) loop_.cancel_timer(tick_timer_);
    tick_at_ = *next;
    tick_timer_ = loop_.add_timer(*next, [this] {
        tick_timer_ = 0;
        tick_at_ = TimePoint::max();
        tick();
    });
}

void Daemon::tick() {
    for (const auto& start : scheduler_.due(loop_.now()))
        start_job(start);
    if (auto n = scheduler_.overruns(); n != overruns_seen_) {
        exporter_.add_overruns(n - overruns_seen_);
        overruns_seen_ = n;
    }
    for (const auto& [network, n] : scheduler_.rate_limited()) {
        auto& seen = rate_limited_seen_[network];
        if (n != seen) exporter_.add_rate_limited(network, n - seen);
        seen = n;
    }
    exporter_.set_in_flight(in_flight_);
    arm_tick();
}

Probe& Daemon::probe_for(const std::string& kind) {
    if (kind == "icmp") return *icmp_;
    if (kind == "udp") return *udp_;
    if (kind == "dns") return *dns_;
    if (kind == "http") return *http_;
    return *tcp_;
}

void Daemon::start_job(const Scheduler::Start& start) {
    auto* lj = static_cast<LiveJob*>(start.user);
    exporter_.observe_lag(start.lag);
    ++in_flight_;
    ++lj->in_flight;
    Probe& probe = probe_for(lj->job.spec.kind);
    probe.start(lj->job.request, [this, lj, handle = start.handle](ProbeResult result) {
        on_result(lj, handle, result);
    });
}

void Daemon::on_result(LiveJob* lj, JobHandle handle, const ProbeResult& result) {
    --in_flight_;
    --lj->in_flight;
    scheduler_.finished(handle);
    if (lj->removed) {  // left the config while it ran
        if (lj->in_flight == 0)
            std::erase_if(retired_,
                          [lj](const std::unique_ptr<LiveJob>& p) { return p.get() == lj; });
        return;
    }
    static const std::string kNoReporter;
    const std::string& reporter_network =
        result.reporter ? network_index_.lookup(*result.reporter) : kNoReporter;
    if (lj->job.flow) return on_flow_result(*lj, result, reporter_network);
    exporter_.record(lj->series, result, reporter_network);
    if (lj->last_outcome != result.outcome || lj->last_reporter != result.reporter) {
        // Logged on change only: an audit trail of what broke and who said so, not a flood.
        if (result.outcome == Outcome::ok) {
            spdlog::info("{} {}: {} -> ok", lj->job.target->id, lj->job.spec.str(),
                         lj->last_outcome ? to_string(*lj->last_outcome) : "new");
        } else {
            spdlog::info("{} {}: {} -> {}{}{} ({})", lj->job.target->id, lj->job.spec.str(),
                         lj->last_outcome ? to_string(*lj->last_outcome) : "new",
                         to_string(result.outcome),
                         result.reporter ? " reported by " + result.reporter->str() : "",
                         result.reporter ? " in network " + reporter_network : "", result.detail);
        }
        lj->last_outcome = result.outcome;
        lj->last_reporter = result.reporter;
    }
}

void Daemon::on_flow_result(LiveJob& lj, const ProbeResult& result,
                            const std::string& reporter_network) {
    const Flow& flow = *lj.job.flow;
    Verdict verdict = judge(flow.expect, result.outcome);
    exporter_.record_flow(lj.flow_series, result.outcome, is_compliant(verdict),
                          result.reporter ? result.reporter->str() : "", reporter_network,
                          unix_now());
    if (lj.last_outcome == result.outcome && lj.last_reporter == result.reporter) return;
    // A deny flow that connects is the alert that matters most: warn, not inform.
    auto level = verdict == Verdict::violation ? spdlog::level::warn : spdlog::level::info;
    spdlog::log(
        level, "flow {} to {} ({} {}): {} -> {}{}, {}", flow.id, lj.job.target->id,
        to_string(flow.expect), flow.service, lj.last_outcome ? to_string(*lj.last_outcome) : "new",
        to_string(result.outcome),
        result.reporter ? " reported by " + result.reporter->str() + " in " + reporter_network : "",
        to_string(verdict));
    lj.last_outcome = result.outcome;
    lj.last_reporter = result.reporter;
}

std::string Daemon::status_line() const {
    std::size_t failing = 0, pending = 0;
    for (const auto& [key, lj] : jobs_) {
        if (!lj->last_outcome)
            ++pending;
        else if (*lj->last_outcome != Outcome::ok)
            ++failing;
    }
    return "site " + config_->settings.site + ": " + std::to_string(jobs_.size()) + " probes, " +
           std::to_string(jobs_.size() - failing - pending) + " ok, " + std::to_string(failing) +
           " failing";
}

void Daemon::every_few_seconds() {
    auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(5));
    if (auto wd = systemd::watchdog_interval()) {
        // Pinged from the event loop itself, so a stuck loop is what the watchdog catches.
        period = std::min(period, std::chrono::duration_cast<Clock::duration>(*wd / 3));
        systemd::watchdog();
    }
    systemd::status(status_line());
    exporter_.set_icmp_stats(icmp_->stats().late, icmp_->stats().unmatched);
    exporter_.set_http_overloaded(http_->overloaded());
    loop_.add_timer(loop_.now() + period, [this] { every_few_seconds(); });
}

}  // namespace fedprobe
