#include "capture/offline_analysis.hpp"

#include "capture/pcap_source.hpp"

namespace fedprobe {

namespace {

struct FileReading {
    HandshakeTracker* tracker;
    int link_type;
};

void on_frame(void* user, std::int64_t ts, std::span<const std::uint8_t> frame) {
    auto* r = static_cast<FileReading*>(user);
    r->tracker->add_frame(r->link_type, frame, ts);
}

}  // namespace

Result<OfflineAnalysis> analyse_capture_file(const std::string& path, const Config& config) {
    auto source = PcapSource::open_file(path);
    if (!source.ok()) return source.status();
    OfflineAnalysis out{PassiveLabels::from_config(config), {}, 0, {}};
    HandshakeSettings settings;
    if (config.settings.capture) {
        settings.timeout = config.settings.capture->handshake_timeout;
        settings.max_flows = config.settings.capture->max_flows;
    }
    HandshakeTracker tracker(out.labels, settings);
    FileReading r{&tracker, (*source)->link_type()};
    auto n = (*source)->dispatch(&on_frame, &r);
    if (!n.ok()) out.read_error = n.status().message();
    out.unfinished = tracker.finish();
    out.counts = std::move(tracker.counts());
    return out;
}

}  // namespace fedprobe
