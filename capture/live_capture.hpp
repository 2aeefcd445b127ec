// Passive capture on the daemon's event loop: one PcapSource per configured interface, all
// feeding one HandshakeTracker (a mirror port may carry each direction on its own interface).
// An interface that is missing or goes away is counted, logged through `on_event`, and opened
// again every few seconds until it is back; the others keep capturing.
//
// Every second it hands what it counted since the last time, and its health, to `on_counts`:
// results flow one way, and the sink that renders them is not known here.
// Everything runs on the loop's thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "capture/handshake_tracker.hpp"
#include "capture/passive_labels.hpp"
#include "capture/pcap_source.hpp"
#include "core/event_loop.hpp"
#include "federation/config.hpp"

namespace fedprobe {

struct CaptureInterfaceState {
    std::string name;
    bool capturing = false;
    std::uint64_t packets = 0;       // since the daemon started, over every re-open
    std::uint64_t kernel_drops = 0;  // likewise, from pcap_stats
    std::uint64_t failures = 0;      // failed opens and losses of the interface
    std::string last_error;
};

struct CaptureHealth {
    std::vector<CaptureInterfaceState> interfaces;
    std::size_t flows_tracked = 0;
};

class LiveCapture {
  public:
    using CountsSink = std::function<void(PassiveCounts&& delta, const PassiveLabels& labels,
                                          const CaptureHealth& health)>;
    // A message for the log: an interface lost, back, or failing to open.
    using EventSink = std::function<void(bool error, const std::string& message)>;

    LiveCapture(EventLoop& loop, const Config& config, CountsSink on_counts, EventSink on_event);
    ~LiveCapture();
    LiveCapture(const LiveCapture&) = delete;
    LiveCapture& operator=(const LiveCapture&) = delete;

    // Opens every interface; those that fail are retried. Hands counts every second from then.
    void start();
    // Hands over what is left, and closes every interface.
    void stop();
    const CaptureConfig& config() const { return config_; }
    const PassiveLabels& labels() const { return labels_; }
    const CaptureHealth& health() const { return health_; }

  private:
    struct Interface {
        std::string name;
        std::unique_ptr<PcapSource> source;
        std::uint32_t last_dropped = 0;  // pcap_stat counters wrap at 2^32
        std::int64_t retry_at_ns = 0;
    };

    EventLoop& loop_;
    CaptureConfig config_;
    PassiveLabels labels_;
    HandshakeTracker tracker_;
    CountsSink on_counts_;
    EventSink on_event_;
    std::vector<Interface> interfaces_;
    CaptureHealth health_;
    EventLoop::TimerId tick_ = 0;
    bool running_ = false;

    void open(std::size_t i);
    void close(std::size_t i, const std::string& why);
    void readable(std::size_t i);
    void on_tick();
    void read_stats(std::size_t i);
    static void on_frame(void* self, std::int64_t ts, std::span<const std::uint8_t> frame);
};

}  // namespace fedprobe
