#include "capture/live_capture.hpp"

#include <sys/epoll.h>

#include "core/clock.hpp"

namespace fedprobe {

namespace {

constexpr auto kTick = std::chrono::seconds(1);
constexpr std::int64_t kRetryNs = 5'000'000'000;
// The kernel hands packets over a block at a time, at the latest after PcapSource's timeout
// (100 ms): a handshake is only given up once everything up to its deadline has been read.
constexpr std::int64_t kDeliveryLagNs = 300'000'000;

HandshakeSettings handshake_settings(const CaptureConfig& c) {
    HandshakeSettings s;
    s.timeout = c.handshake_timeout;
    s.max_flows = c.max_flows;
    return s;
}

struct Reading {
    HandshakeTracker* tracker;
    int link_type;
    std::uint64_t frames = 0;
};

}  // namespace

LiveCapture::LiveCapture(EventLoop& loop, const Config& config, CountsSink on_counts,
                         EventSink on_event)
    : loop_(loop),
      config_(config.settings.capture.value_or(CaptureConfig{})),
      labels_(PassiveLabels::from_config(config)),
      tracker_(labels_, handshake_settings(config_)),
      on_counts_(std::move(on_counts)),
      on_event_(std::move(on_event)) {
    for (const auto& name : config_.interfaces) {
        interfaces_.push_back(Interface{name, nullptr, 0, 0});
        CaptureInterfaceState st;
        st.name = name;
        health_.interfaces.push_back(std::move(st));
    }
}

LiveCapture::~LiveCapture() {
    if (tick_) loop_.cancel_timer(tick_);
    for (auto& itf : interfaces_)
        if (itf.source) loop_.remove_fd(itf.source->selectable_fd());
}

void LiveCapture::start() {
    running_ = true;
    for (std::size_t i = 0; i < interfaces_.size(); ++i)
        open(i);
    tick_ = loop_.add_timer(loop_.now() + kTick, [this] { on_tick(); });
}

void LiveCapture::stop() {
    if (!running_) return;
    running_ = false;
    if (tick_) loop_.cancel_timer(tick_);
    tick_ = 0;
    for (std::size_t i = 0; i < interfaces_.size(); ++i) {
        if (!interfaces_[i].source) continue;
        read_stats(i);
        loop_.remove_fd(interfaces_[i].source->selectable_fd());
        interfaces_[i].source.reset();
        health_.interfaces[i].capturing = false;
    }
    health_.flows_tracked = tracker_.tracked();
    on_counts_(std::move(tracker_.counts()), labels_, health_);
    tracker_.counts().clear();
}

void LiveCapture::open(std::size_t i) {
    Interface& itf = interfaces_[i];
    CaptureInterfaceState& st = health_.interfaces[i];
    auto src = PcapSource::open_live(itf.name, PcapSource::LiveOptions{});
    Status added;
    if (src.ok())
        added = loop_.add_fd((*src)->selectable_fd(), EPOLLIN,
                             [this, i](std::uint32_t) { readable(i); });
    if (!src.ok() || !added.ok()) {
        std::string why = src.ok() ? added.message() : src.status().message();
        ++st.failures;
        itf.retry_at_ns = realtime_ns() + kRetryNs;
        // Said once while it stays the same: an interface that is gone for hours would
        // otherwise fill the journal every five seconds.
        if (why != st.last_error)
            on_event_(true, "capture: " + why + "; retrying every " +
                                std::to_string(kRetryNs / 1'000'000'000) + " s");
        st.last_error = why;
        return;
    }
    itf.source = std::move(*src);
    itf.last_dropped = 0;
    st.capturing = true;
    on_event_(false, "capture: capturing on " + itf.name + (st.failures ? " again" : ""));
    st.last_error.clear();
}

void LiveCapture::close(std::size_t i, const std::string& why) {
    Interface& itf = interfaces_[i];
    CaptureInterfaceState& st = health_.interfaces[i];
    loop_.remove_fd(itf.source->selectable_fd());
    itf.source.reset();
    st.capturing = false;
    ++st.failures;
    st.last_error = itf.name + ": " + why;
    itf.retry_at_ns = realtime_ns() + kRetryNs;
    on_event_(true, "capture: lost " + itf.name + ": " + why + "; retrying every " +
                        std::to_string(kRetryNs / 1'000'000'000) + " s");
}

void LiveCapture::on_frame(void* user, std::int64_t ts, std::span<const std::uint8_t> frame) {
    auto* r = static_cast<Reading*>(user);
    ++r->frames;
    r->tracker->add_frame(r->link_type, frame, ts);
}

void LiveCapture::readable(std::size_t i) {
    Interface& itf = interfaces_[i];
    if (!itf.source) return;
    Reading r{&tracker_, itf.source->link_type()};
    auto n = itf.source->dispatch(&LiveCapture::on_frame, &r);
    health_.interfaces[i].packets += r.frames;
    if (!n.ok()) close(i, n.status().message());
}

void LiveCapture::read_stats(std::size_t i) {
    Interface& itf = interfaces_[i];
    auto s = itf.source->stats();
    if (!s.ok()) return;
    // Running totals of the kernel's, kept over re-opens (each starts from 0) and 2^32 wraps.
    auto dropped = static_cast<std::uint32_t>(s->dropped);
    health_.interfaces[i].kernel_drops += static_cast<std::uint32_t>(dropped - itf.last_dropped);
    itf.last_dropped = dropped;
}

void LiveCapture::on_tick() {
    tick_ = 0;
    const std::int64_t now = realtime_ns();
    for (std::size_t i = 0; i < interfaces_.size(); ++i) {
        if (interfaces_[i].source) {
            readable(i);
            if (interfaces_[i].source) read_stats(i);
        } else if (now >= interfaces_[i].retry_at_ns) {
            open(i);
        }
    }
    tracker_.expire(now - kDeliveryLagNs);
    health_.flows_tracked = tracker_.tracked();
    on_counts_(std::move(tracker_.counts()), labels_, health_);
    tracker_.counts().clear();
    if (running_) tick_ = loop_.add_timer(loop_.now() + kTick, [this] { on_tick(); });
}

}  // namespace fedprobe
