#include "daemon/daemon.hpp"

#include <malloc.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>

#include "daemon/fd_limit.hpp"
#include "daemon/sd_notify.hpp"
#include "exporters/web_health.hpp"
#include "probes/stamp/stamp_steering.hpp"

namespace fedprobe {

namespace {

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

Daemon::Daemon(std::string config_path, std::optional<std::string> site_override, ConfigTrust trust)
    : config_path_(std::move(config_path)),
      site_override_(std::move(site_override)),
      trust_(std::move(trust)),
      exporter_(FEDPROBE_VERSION) {}

Daemon::~Daemon() {
    // A reload still reading the file finishes first: its thread writes to the loop's eventfd.
    reloader_.reset();
    // The engine first (its probes hold sockets and timers on the loop), then the HTTP threads.
    engine_.reset();
    if (!stop_exposer(std::chrono::seconds(10))) _exit(0);  // only after a start-up failure
    if (signal_fd_ >= 0) close(signal_fd_);
}

bool Daemon::stop_exposer(std::chrono::milliseconds deadline) {
    if (!web_server_) return true;
    // libmicrohttpd closes its connections at once, but waits for a thread still building a
    // reply (a scrape of 10,000 targets takes a second or more). So it stops on a thread of
    // its own, and the caller decides what to do when it does not stop in time.
    auto stopped = std::make_shared<std::atomic<bool>>(false);
    std::thread closer([this, stopped] {
        web_server_.reset();
        set_web_health(nullptr, nullptr);
        *stopped = true;
    });
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (!*stopped && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (!*stopped) {
        closer.detach();
        return false;
    }
    closer.join();
    return true;
}

bool Daemon::open_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return false;
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) return false;
    signal_fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd_ < 0) return false;
    return loop_.add_fd(signal_fd_, EPOLLIN, [this](std::uint32_t) { on_signal(); }).ok();
}

bool Daemon::start_exposer() {
    const auto& settings = config_->settings;
    if (!settings.web.basic_auth_users.empty())
        auth_ = std::make_unique<BasicAuth>(settings.web.basic_auth_users,
                                            [this] { exporter_.auth_failed(); });
    // /metrics, /-/healthy, /-/ready and the status page at /, all behind the same auth.
    set_web_health(&health_, auth_.get(), &page_, &metrics_);
    WebTlsFiles files;
    if (settings.web.tls) {
        auto loaded = load_web_tls_files(*settings.web.tls);
        if (!loaded.ok()) {
            set_web_health(nullptr, nullptr);
            spdlog::error("cannot serve /metrics over TLS: {}", loaded.status().message());
            return false;
        }
        files = std::move(*loaded);
    }
    // The HTTP threads only read the series; all probing stays on this thread.
    auto server =
        WebServer::start(settings.listen, settings.web.tls, std::move(files), settings.web.allow);
    if (!server.ok()) {
        set_web_health(nullptr, nullptr);
        spdlog::error("cannot serve /metrics: {}", server.status().message());
        return false;
    }
    web_server_ = std::move(*server);
    spdlog::info("metrics on {}://{}/metrics{}{}", settings.web.tls ? "https" : "http",
                 settings.listen.str(),
                 settings.web.tls && settings.web.tls->client_auth != ClientAuth::none
                     ? " (client certificates)"
                     : "",
                 auth_ ? " (basic auth)" : "");
    return true;
}

int Daemon::run() {
    // Fixed thresholds turn off glibc's dynamic ones: once a scrape's body (13 MB at 10,000
    // targets) is freed, glibc would raise the mmap threshold to its size and the trim
    // threshold to twice that, and malloc_trim cannot shrink the top of an HTTP thread's
    // arena, so each scrape left megabytes resident there. With these, large blocks are
    // mapped and unmapped, and a thread arena gives back its top beyond 1 MiB when freed.
    if (mallopt(M_MMAP_THRESHOLD, 256 << 10) != 1 || mallopt(M_TRIM_THRESHOLD, 1 << 20) != 1)
        spdlog::warn("mallopt refused the memory thresholds; RSS may stay high after scrapes");
    if (Status st = loop_.init(); !st.ok()) {
        spdlog::error("{}", st.message());
        return 1;
    }
    auto loaded = load_config_file(config_path_, site_override_, trust_);
    log_diagnostics(loaded.diagnostics);
    if (!loaded.config) {
        spdlog::error("{}: not starting: the config has errors", config_path_);
        return 1;
    }
    if (!open_signals()) {
        spdlog::error("cannot set up signal handling: {}", std::strerror(errno));
        return 1;
    }
    reloader_ = std::make_unique<ConfigReloader>(
        loop_, config_path_, site_override_, trust_,
        [this] {
            systemd::reloading();
            spdlog::info("reloading {}", config_path_);
        },
        [this](LoadResult loaded) { reloaded(std::move(loaded)); });
    if (Status st = reloader_->init(); !st.ok()) {
        spdlog::error("cannot set up reloading: {}", st.message());
        return 1;
    }
    descriptors_ = plan_descriptors();
    loop_.fd_budget().set_limit(descriptors_.budget);
    engine_ = std::make_unique<Engine>(loop_, EngineSettings::daemon());
    if (!engine_->add_sink(exporter_) || !engine_->add_sink(change_log_)) {
        spdlog::error("internal error: the engine refused a result sink");
        return 1;
    }
    // A reflector that cannot bind (its port taken, or no CAP_NET_BIND_SERVICE) was logged by
    // apply(); probing goes on without it, as after a reload that cannot bind.
    apply(loaded.config);
    if (!start_exposer()) return 1;
    exporter_.config_reloaded(true, unix_now(), config_->sha256);
    spdlog::info("fedprobe {} running as site '{}' with {} ({} probes)", FEDPROBE_VERSION,
                 config_->settings.site, config_path_, engine_->size());
    systemd::ready(status_line());
    health_.set_ready(true);
    every_few_seconds();
    loop_.run();
    health_.set_ready(false);
    systemd::stopping();
    spdlog::info("stopping");
    // Within the second doc/operations.md promises: probes end at once (sockets close, nothing
    // waits for an answer), then the HTTP server gets 300 ms.
    reloader_.reset();
    capture_.reset();
    reflector_.reset();
    engine_.reset();
    const bool http_stopped = stop_exposer(std::chrono::milliseconds(300));
    // A scrape still being built or sent is not waited for: the process holds nothing that
    // needs an orderly close (no files but the log); the kernel closes the connection, and
    // Prometheus retries on its next interval.
    if (!http_stopped) spdlog::warn("stopping without waiting for a scrape still in progress");
    // The last line: what follows (freeing memory, the kernel ending the process) is not the
    // daemon's to shorten, and tests time the two apart by it.
    spdlog::info("stopped");
    if (!http_stopped) {
        spdlog::shutdown();
        std::fflush(nullptr);
        _exit(0);
    }
    return 0;
}

void Daemon::apply(std::shared_ptr<const Config> config) {
    config_ = config;
    page_.set_config(*config_);
    auto change = engine_->apply(std::move(config));
    if (!change.added.empty() || !change.removed.empty())
        spdlog::info("config: {} probes added, {} removed, {} kept", change.added.size(),
                     change.removed.size(), change.kept);
    for (const auto& k : change.added)
        spdlog::debug("config: + {}", k);
    for (const auto& k : change.removed)
        spdlog::info("config: - {} (its series are removed)", k);
    auto warning = descriptor_warning(descriptors_, sockets_needed(engine_->jobs()));
    if (warning && *warning != descriptor_warning_) spdlog::warn("{}", *warning);
    descriptor_warning_ = warning.value_or("");
    apply_capture(*config_);
    if (Status st = apply_reflector(*config_); !st.ok()) spdlog::error("{}", st.message());
    change = {};
    // Building the jobs, their series and this change, and dropping the previous config, freed
    // as much as the jobs now hold; give those pages back, or RSS keeps the high-water mark of
    // every reload.
    malloc_trim(0);
}

namespace {

// [fedprobe.stamp] with the federation's STAMP senders: the addresses of the targets probed
// with stamp (the appliances' reflectors, which send from the same address), as this site sees
// them, within the reflector's allow.
std::optional<StampReflectorSettings> reflector_settings(const Config& config) {
    std::optional<StampReflectorSettings> want = config.settings.stamp;
    if (!want) return want;
    for (const Target& t : config.targets) {
        const IpAddress& a = t.address_for(config.settings.site);
        const bool stamp = std::any_of(t.probes().begin(), t.probes().end(),
                                       [](const ProbeSpec& p) { return p.name() == "stamp"; });
        const bool allowed = std::any_of(want->allow.begin(), want->allow.end(),
                                         [&](const Prefix& p) { return p.contains(a); });
        if (stamp && allowed &&
            std::find(want->priority.begin(), want->priority.end(), a) == want->priority.end())
            want->priority.push_back(a);
    }
    return want;
}

}  // namespace

Status Daemon::apply_reflector(const Config& config) {
    const auto want = reflector_settings(config);
    exporter_.stamp_reflector().set(want.has_value() || reflector_, config.settings.site);
    if (!want) {
        if (reflector_) spdlog::info("stamp reflector: stopped (no [fedprobe.stamp] any more)");
        reflector_.reset();
        exporter_.stamp_reflector().set(false, config.settings.site);
        return {};
    }
    if (reflector_ && reflector_->settings() == *want) return {};
    // The old one lets go of its ports first: the new one most likely binds the same.
    std::optional<StampReflectorSettings> was;
    if (reflector_) was = reflector_->settings();
    reflector_.reset();
    auto counts = exporter_.stamp_reflector().counts();
    auto fresh = std::make_unique<StampReflector>(loop_, *want, counts);
    Status st = fresh->start();
    if (st.ok()) {
        reflector_ = std::move(fresh);
        std::string where;
        for (const auto& ep : want->listen)
            where += (where.empty() ? "" : ", ") + ep.str();
        spdlog::info(
            "stamp reflector: answering on {} ({}{}), {} federation senders on a queue "
            "of their own",
            where, want->stateful ? "stateful" : "stateless", want->key ? ", authenticated" : "",
            std::min(want->priority.size(), kMostSteeredSources));
        if (want->priority.size() > kMostSteeredSources)
            spdlog::warn(
                "stamp reflector: {} stamp targets; up to {} of each address family get the "
                "senders' queue, "
                "the rest share the flooded one",
                want->priority.size(), kMostSteeredSources);
        return {};
    }
    if (was) {
        reflector_ = std::make_unique<StampReflector>(loop_, *was, counts);
        if (!reflector_->start().ok()) reflector_.reset();
    }
    exporter_.stamp_reflector().set(reflector_ != nullptr, config.settings.site);
    return Status::error(st.message() +
                         (reflector_ ? "; still answering as before" : "; not reflecting"));
}

void Daemon::apply_capture(const Config& config) {
    const auto& want = config.settings.capture;
    exporter_.passive().set_site(config.settings.site);
    if (!want) {
        if (capture_) {
            capture_->stop();
            capture_.reset();
            exporter_.passive().clear();
            spdlog::info("capture: stopped (no [fedprobe.capture] any more)");
        }
        return;
    }
    // Handshakes in flight survive a reload that changes nothing the capture uses.
    if (capture_ && capture_->config() == *want &&
        capture_->labels() == PassiveLabels::from_config(config))
        return;
    if (capture_) capture_->stop();  // hands over what it counted so far
    capture_ = std::make_unique<LiveCapture>(
        loop_, config,
        [this](PassiveCounts&& delta, const PassiveLabels& labels, const CaptureHealth& health) {
            exporter_.passive().add(delta, labels, health);
        },
        [](bool error, const std::string& message) {
            if (error)
                spdlog::warn("{}", message);
            else
                spdlog::info("{}", message);
        });
    capture_->start();
}

void Daemon::reloaded(LoadResult loaded) {
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
    if (!reload_web(now)) {
        exporter_.config_reloaded(false, unix_now());
        systemd::ready(status_line() + "; last reload failed");
        return;
    }
    // The swap runs on the probing thread (the parse did not); its time is how late a probe
    // due meanwhile starts, so it is logged.
    const auto swap_started = std::chrono::steady_clock::now();
    apply(loaded.config);
    const auto swap = std::chrono::steady_clock::now() - swap_started;
    exporter_.config_reloaded(true, unix_now(), config_->sha256);
    spdlog::info("reload done: {} probes, swapped in {} ms", engine_->size(),
                 std::chrono::duration_cast<std::chrono::milliseconds>(swap).count());
    systemd::ready(status_line());
}

bool Daemon::reload_web(const Settings& now) {
    if (!web_server_) return true;
    // The certificates and the CA are read again on every reload: a renewed certificate is
    // served without a restart, and one that does not load keeps the old and the old config.
    WebTlsFiles files;
    if (now.web.tls) {
        auto loaded = load_web_tls_files(*now.web.tls);
        if (!loaded.ok()) {
            spdlog::error(
                "reload rejected: [fedprobe.web.tls]: {}; still running the previous "
                "config and certificates",
                loaded.status().message());
            return false;
        }
        files = std::move(*loaded);
    }
    if (files == web_server_->files() && now.web.tls == web_server_->tls() &&
        now.web.allow == web_server_->allow())
        return true;
    // SO_REUSEPORT: the new server listens before the old one stops, so no scrape is refused.
    auto server =
        WebServer::start(config_->settings.listen, now.web.tls, std::move(files), now.web.allow);
    if (!server.ok()) {
        spdlog::error(
            "reload rejected: [fedprobe.web]: {}; still running the previous config and "
            "certificates",
            server.status().message());
        return false;
    }
    web_server_ = std::move(*server);
    spdlog::info("reload: [fedprobe.web] applied ({}, {} allowed prefixes)",
                 now.web.tls ? "TLS" : "plain HTTP", now.web.allow.size());
    return true;
}

void Daemon::on_signal() {
    signalfd_siginfo info;
    while (read(signal_fd_, &info, sizeof info) == sizeof info) {
        if (info.ssi_signo == SIGHUP) {
            reloader_->request();
        } else {
            spdlog::info("signal {} received", strsignal(static_cast<int>(info.ssi_signo)));
            loop_.stop();
        }
    }
}

std::string Daemon::status_line() const {
    std::size_t failing = 0, pending = 0;
    for (const LiveJob* lj : engine_->jobs()) {
        if (!lj->last_outcome)
            ++pending;
        else if (*lj->last_outcome != Outcome::ok)
            ++failing;
    }
    const std::size_t n = engine_->size();
    return "site " + config_->settings.site + ": " + std::to_string(n) + " probes, " +
           std::to_string(n - failing - pending) + " ok, " + std::to_string(failing) + " failing";
}

void Daemon::every_few_seconds() {
    auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(5));
    if (auto wd = systemd::watchdog_interval()) {
        // Pinged from the event loop itself, so a stuck loop is what the watchdog catches.
        period = std::min(period, std::chrono::duration_cast<Clock::duration>(*wd / 3));
        systemd::watchdog();
    }
    systemd::status(status_line());
    health_.beat();
    exporter_.update_engine_stats(engine_->stats());
    if (loop_.fd_budget().limit() < descriptors_.budget) {
        // A socket() met EMFILE below the planned budget: something else holds descriptors.
        spdlog::warn(
            "the descriptor limit was reached with {} probe sockets open (planned {}); "
            "tcp/udp probes now wait for a free one. Raise LimitNOFILE",
            loop_.fd_budget().limit(), descriptors_.budget);
        descriptors_.budget = loop_.fd_budget().limit();
    }
    // Each kind's probe's own counters, as its kind declares them: no kind is named here.
    for (std::size_t kind = 0; kind < kKindCount; ++kind)
        if (const Probe* probe = engine_->probe_if_made(kind))
            exporter_.set_probe_totals(kind, probe->totals());
    loop_.add_timer(loop_.now() + period, [this] { every_few_seconds(); });
}

}  // namespace fedprobe
