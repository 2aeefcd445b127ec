// What passive capture reads from the wire or from a file somebody sent: one frame of any
// supported link type through the header parser, then, when it parsed, through the handshake
// tracker (as a packet, again a second later, and at the end of a capture). The first byte
// picks the link type.
#include <pcap/dlt.h>

#include <span>

#include "capture/frame.hpp"
#include "capture/handshake_tracker.hpp"
#include "fuzz/fuzz_target.hpp"

namespace {

const fedprobe::PassiveLabels& labels() {
    static const fedprobe::PassiveLabels l = [] {
        fedprobe::Config c;
        c.settings.site = "a";
        c.networks = {fedprobe::Network{"a",
                                        fedprobe::NetworkKind::nhs,
                                        "",
                                        {*fedprobe::Prefix::parse("10.31.0.0/16")},
                                        {}},
                      fedprobe::Network{"b",
                                        fedprobe::NetworkKind::psn,
                                        "",
                                        {*fedprobe::Prefix::parse("2001:db8::/32")},
                                        {}}};
        c.services["mllp"] = fedprobe::Service{"mllp", fedprobe::Transport::tcp, 2575, ""};
        return fedprobe::PassiveLabels::from_config(c);
    }();
    return l;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    static const int kLinks[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW,
                                 DLT_IPV4,   DLT_IPV6,      DLT_NULL,       DLT_LOOP};
    const int link = kLinks[data[0] % 8];
    fedprobe::FrameHeaders h;
    if (fedprobe::parse_frame(link, std::span<const std::uint8_t>(data + 1, size - 1), h) !=
        fedprobe::FrameStatus::ok)
        return 0;
    fedprobe::HandshakeSettings s;
    s.max_flows = 4;
    fedprobe::HandshakeTracker tracker(labels(), s);
    tracker.add(h, 0);
    tracker.add(h, 1'000'000'000);
    tracker.expire(100'000'000'000);
    (void)tracker.finish();
    return 0;
}
