// libpcap behind fedprobe's error convention: a capture file (pcap or pcapng) or a live
// interface, read as frames with nanosecond timestamps. A live source captures headers only
// (snaplen 128), in non-immediate mode with a kernel buffer and a timeout (TPACKET_V3 on
// Linux), filtered in the kernel by BPF to TCP SYN/RST/FIN and ICMP errors, non-blocking, with
// a descriptor for the event loop. One thread per source.
#pragma once

#include <pcap/pcap.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/status.hpp"

namespace fedprobe {

// No payload is ever kept: 128 bytes reach the TCP flags behind Ethernet, two VLAN tags and
// IPv6, and the quoted ports and sequence number inside an ICMPv6 error.
inline constexpr int kCaptureSnaplen = 128;
// The kernel filter: the packets that start or end TCP handshakes, and the ICMP errors that
// may quote one; with the same again behind a VLAN tag.
extern const char* const kCaptureFilter;

class PcapSource {
  public:
    using Handler = void (*)(void* user, std::int64_t ts_ns, std::span<const std::uint8_t> frame);

    static Result<std::unique_ptr<PcapSource>> open_file(const std::string& path);
    struct LiveOptions {
        int buffer_bytes = 8 << 20;
        std::chrono::milliseconds timeout{100};  // how long the kernel holds a block back
    };
    static Result<std::unique_ptr<PcapSource>> open_live(const std::string& interface,
                                                         const LiveOptions& options);
    ~PcapSource();
    PcapSource(const PcapSource&) = delete;
    PcapSource& operator=(const PcapSource&) = delete;

    int link_type() const { return link_type_; }
    int selectable_fd() const;
    // Hands every frame that is ready (a file: all of it) to `handler`. Returns how many, or
    // why not: a file cut short, an interface that went away.
    Result<std::uint64_t> dispatch(Handler handler, void* user, int max = -1);
    struct Stats {
        std::uint64_t received = 0;
        std::uint64_t dropped = 0;  // by the kernel, for want of buffer: the capture fell behind
    };
    Result<Stats> stats() const;

  private:
    explicit PcapSource(pcap_t* p) : pcap_(p) {}
    pcap_t* pcap_;
    int link_type_ = 0;
};

}  // namespace fedprobe
