// The message-level socket layer every probe sends and receives through: per-socket options
// (device, DSCP, source, DF, error queue, kernel timestamps, receive-overflow counting) and
// per-packet ones (TTL/hop limit, TOS/traffic class, source, interface) on sendmsg; batched
// receives with each packet's kernel timestamp; and the error queue, which hands back the ICMP
// error's type, code, sender and the packet it quotes. Plain functions on file descriptors:
// call them from the thread that owns the socket (the probing thread).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/address.hpp"
#include "core/status.hpp"

namespace fedprobe {

// Where and how probes leave this appliance; per target, defaults in [fedprobe].
struct SendOptions {
    std::optional<IpAddress> source;
    std::string device;  // SO_BINDTODEVICE: an interface or VRF
    int dscp = -1;       // -1: leave the system default
    friend bool operator==(const SendOptions&, const SendOptions&) = default;
};

// An ICMP (or local) error the kernel queued on a socket (IP_RECVERR / IPV6_RECVERR).
struct QueuedError {
    int err = 0;              // the errno the kernel derived
    std::uint8_t origin = 0;  // SO_EE_ORIGIN_*
    std::uint8_t type = 0;
    std::uint8_t code = 0;
    std::uint32_t info = 0;             // ee_info: the next-hop MTU of a packet-too-big
    std::optional<IpAddress> offender;  // the ICMP's source: the router or host that said so
    std::vector<std::uint8_t> quoted;   // the payload of ours it refers to (datagram sockets)

    bool from_icmp() const;
    bool icmp_v6() const;
};

Status enable_error_queue(int fd, int family);
// Pops one queued error; nullopt when the queue is empty.
std::optional<QueuedError> read_error_queue(int fd);
// The parse read_error_queue does on what recvmsg(MSG_ERRQUEUE) gave: the first IP_RECVERR or
// IPV6_RECVERR message in msg's control data, with `payload` (the packet of ours it refers to)
// as the quote. Apart so that tests and the fuzzer can hand it any bytes; nullopt when there is
// no such message or a length does not fit.
std::optional<QueuedError> parse_error_queue(const msghdr& msg,
                                             std::span<const std::uint8_t> payload);
// SO_TIMESTAMPNS: every received packet carries the kernel's wall-clock arrival time.
Status enable_rx_timestamps(int fd);
// SO_RXQ_OVFL: every received packet carries how many the socket has dropped for want of room,
// which is how a prober that fell behind learns it lost replies rather than the network.
Status enable_rx_overflow_count(int fd);
// A raw ICMP/ICMPv6 socket sees every ICMP message on the host: let through only echo replies
// and the errors that quote a packet (unreachable, time exceeded, parameter problem, and
// packet too big for IPv6). Used by every prober that reads raw ICMP.
Status pass_echo_replies_and_errors(int fd, int family);
// A raw ICMP/ICMPv6 socket that only sends: the kernel hands it no ICMP message at all. Every
// raw socket of a protocol gets its own copy of each message it lets through, so a prober that
// sends on several (DF on and off) reads on one and blocks all on the rest.
Status block_all_icmp(int fd, int family);
// IPV6_RECVHOPLIMIT: every received IPv6 packet carries the hop limit it arrived with (an IPv4
// raw socket sees the TTL in the header it returns).
Status enable_rx_hop_limit(int fd);
// IP_RECVTTL, IP_RECVTOS and IP_PKTINFO (or their IPv6 forms): every received packet carries
// its TTL, its TOS byte and the local address it was sent to, as a responder needs to answer
// from the address it was asked on and to report what arrived.
Status enable_rx_packet_info(int fd, int family);
// DF on (IP_PMTUDISC_PROBE, IPV6_PMTUDISC_PROBE: set DF, ignore the cached path MTU) or off.
Status set_dont_fragment(int fd, int family, bool on);
// A larger receive buffer (SO_RCVBUFFORCE where CAP_NET_ADMIN allows, else up to rmem_max).
void grow_receive_buffer(int fd, int bytes);
// DSCP, device and source address, for a socket whose packets all leave alike.
Status apply_send_options(int fd, int family, const SendOptions& send);
// A non-blocking socket for one probe, with the error queue on and SendOptions applied.
Result<int> open_probe_socket(int family, int type, int protocol, const SendOptions& send);

// Per-packet options for a socket shared by many probes.
struct PacketOptions {
    int ttl = 0;   // 0: the socket's default
    int tos = -1;  // the whole TOS / traffic-class byte; -1: the socket's default
    std::optional<IpAddress> source;
    unsigned ifindex = 0;
};
// One sendmsg with the options as control messages. The errno of a failed send, or 0.
int send_packet(int fd, const IpAddress& destination, std::uint16_t port,
                std::span<const std::uint8_t> packet, const PacketOptions& options);

// Batched sending (sendmmsg) on one socket: packets are queued, each with its own options, and
// sent kBatch to a call by flush(), which then reports each packet's errno (0: sent) with the tag
// it was queued with. One syscall per batch rather than per packet: on loopback at 100,000
// echoes a second the floor was 9.3 CPU-us an echo with batches, 10.9 with one sendmsg each.
// The owner flushes before anything waits on the packets (before timeouts are judged, at the
// end of a dispatch). One thread; flush() may be re-entered from its own report (a report
// that queues more packets leaves them for the next flush).
class PacketSender {
  public:
    static constexpr std::size_t kBatch = 16;
    void add(const IpAddress& destination, std::uint16_t port, std::span<const std::uint8_t> packet,
             const PacketOptions& options, std::uint64_t tag);
    std::size_t size() const { return queued_.size(); }
    // Sends what is queued on fd; then done(tag, err) for each packet, in order.
    template <typename Done>
    void flush(int fd, Done&& done) {
        if (queued_.empty() || flushing_) return;
        flushing_ = true;
        sending_.swap(queued_);
        sending_bytes_.swap(bytes_);
        send_all(fd);
        for (const Entry& e : sending_)
            done(e.tag, e.err);
        sending_.clear();
        sending_bytes_.clear();
        flushing_ = false;
    }
    // As flush(), with `send(destination, port, bytes, options)` (an errno, or 0) for each
    // packet instead of the kernel: a fake Wire's (core/wire.hpp).
    template <typename Send, typename Done>
    void flush_with(Send&& send, Done&& done) {
        if (queued_.empty() || flushing_) return;
        flushing_ = true;
        sending_.swap(queued_);
        sending_bytes_.swap(bytes_);
        for (Entry& e : sending_)
            e.err = send(e.to, e.port,
                         std::span<const std::uint8_t>(sending_bytes_.data() + e.offset, e.length),
                         e.options);
        for (const Entry& e : sending_)
            done(e.tag, e.err);
        sending_.clear();
        sending_bytes_.clear();
        flushing_ = false;
    }

  private:
    struct Entry {
        std::uint64_t tag = 0;
        IpAddress to;
        std::uint16_t port = 0;
        PacketOptions options;
        sockaddr_storage destination{};
        socklen_t destination_len = 0;
        std::size_t offset = 0, length = 0;  // in the bytes
        alignas(cmsghdr) std::uint8_t control[96];
        std::size_t control_len = 0;
        int err = 0;
    };
    std::vector<Entry> queued_, sending_;
    std::vector<std::uint8_t> bytes_, sending_bytes_;
    bool flushing_ = false;

    void send_all(int fd);  // sending_ on fd, kBatch at a time; fills each err
};

// Batched reception (recvmmsg) into buffers kept by the receiver: one per socket kind and thread.
class PacketReceiver {
  public:
    static constexpr unsigned kBatch = 64;
    struct Packet {
        std::span<const std::uint8_t> data;
        std::optional<IpAddress> from;
        std::int64_t rx_ns = 0;  // the kernel's arrival time (CLOCK_REALTIME), 0 if absent
        int hop_limit = -1;      // IPv6 with enable_rx_hop_limit(): the packet's hop limit
        // With enable_rx_packet_info(): the TTL / hop limit, the TOS / traffic-class byte and
        // the local address the packet was sent to (-1 and nullopt when absent).
        int ttl = -1;
        int tos = -1;
        std::optional<IpAddress> to;
        std::uint16_t from_port = 0;
        bool truncated = false;  // longer than the buffer: data holds its first 2048 bytes
    };
    // Reads up to kBatch packets without blocking; the spans stay valid until the next call.
    // 0 when nothing is waiting.
    std::size_t receive(int fd);
    const Packet& packet(std::size_t i) const { return packets_[i]; }
    // The socket's running total of packets dropped for want of buffer room (SO_RXQ_OVFL), as
    // last reported by the kernel.
    std::uint32_t drops() const { return drops_; }
    // The same total as the last receive()'s packets reported it, when one did: a receiver
    // shared by several sockets learns each socket's own total from its own batch.
    std::optional<std::uint32_t> batch_drops() const { return batch_drops_; }

    // A batch that did not come from the kernel (a fake Wire's): at most kBatch packets, each
    // cut to the buffer as recvmmsg would, and the socket's running drop total.
    struct Incoming {
        std::vector<std::uint8_t> data;
        std::optional<IpAddress> from;
        std::int64_t rx_ns = 0;
    };
    std::size_t load(std::span<const Incoming> batch, std::uint32_t drops);

  private:
    std::uint8_t buffers_[kBatch][2048];
    alignas(8) std::uint8_t controls_[kBatch][128];
    struct sockaddr_storage names_[kBatch];
    Packet packets_[kBatch];
    std::uint32_t drops_ = 0;
    std::optional<std::uint32_t> batch_drops_;
};

}  // namespace fedprobe
