// `fedprobe run`: the process around the engine. It loads the config, runs the engine with its
// sinks (metrics, change log) on one event loop, serves /metrics, reloads on SIGHUP without
// dropping the running config on a bad file, and tells systemd how it is. Single-threaded
// except for the web server's threads, which only read the metrics, and the reloader's,
// which only reads the file.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "capture/live_capture.hpp"
#include "core/event_loop.hpp"
#include "daemon/change_log.hpp"
#include "daemon/config_reloader.hpp"
#include "daemon/fd_limit.hpp"
#include "engine/engine.hpp"
#include "exporters/basic_auth.hpp"
#include "exporters/prometheus_exporter.hpp"
#include "exporters/status_page.hpp"
#include "exporters/web_health.hpp"
#include "exporters/web_routes.hpp"
#include "exporters/web_server.hpp"
#include "federation/loader.hpp"
#include "probes/stamp/stamp_reflector.hpp"

namespace fedprobe {

class Daemon {
  public:
    // `trust`: --trusted-keys; the file runs (at start and on every reload) only when signed.
    Daemon(std::string config_path, std::optional<std::string> site_override,
           ConfigTrust trust = {});
    ~Daemon();
    int run();  // the process exit code

  private:
    std::string config_path_;
    std::optional<std::string> site_override_;
    ConfigTrust trust_;
    EventLoop loop_;
    std::shared_ptr<const Config> config_;
    PrometheusExporter exporter_;
    ChangeLog change_log_;
    std::unique_ptr<Engine> engine_;
    std::unique_ptr<LiveCapture> capture_;       // while [fedprobe.capture] is configured
    std::unique_ptr<StampReflector> reflector_;  // while [fedprobe.stamp] is configured
    std::unique_ptr<BasicAuth> auth_;
    // Beaten every few seconds from the loop (at most 5 s apart): three missed beats make
    // /-/healthy fail.
    WebHealth health_{std::chrono::seconds(15)};
    StatusPage page_{exporter_.job_series(), exporter_.flow_series(), FEDPROBE_VERSION};
    MetricsWriter metrics_{[this](std::string& out) { exporter_.write_text(out); }};
    std::unique_ptr<WebServer> web_server_;  // plain HTTP, or TLS with [fedprobe.web.tls]
    std::unique_ptr<ConfigReloader> reloader_;
    int signal_fd_ = -1;
    DescriptorPlan descriptors_;
    std::string descriptor_warning_;  // the last one logged, so a reload does not repeat it

    bool open_signals();
    bool start_exposer();
    // [fedprobe.web] on a reload: the TLS files read again, a new server when they, TLS or
    // allow changed; false (the reload is rejected) when they do not load.
    bool reload_web(const Settings& now);
    bool stop_exposer(std::chrono::milliseconds deadline);  // false: still stopping
    void apply(std::shared_ptr<const Config> config);
    void apply_capture(const Config& config);
    // Starts, replaces or stops the STAMP reflector; an error if the new one cannot bind (a
    // reload then keeps the one that was running).
    Status apply_reflector(const Config& config);
    void reloaded(LoadResult loaded);
    void on_signal();
    void every_few_seconds();
    std::string status_line() const;
};

}  // namespace fedprobe
