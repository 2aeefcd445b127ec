// The probes' boundary with the operating system: the sockets they open, what they send and
// receive on them, their error queues, and the loop's clock, timers and descriptor budget.
// LoopWire (core/loop_wire.hpp) is the real one: an EventLoop and the kernel's sockets. Tests hand
// a probe a fake (tests/fake_wire.hpp) whose clock they move and whose network they script, so a
// probe's round logic runs thousands of exchanges, with loss, reordering, duplicates and late
// answers, without root and without a packet leaving the process. As chrony's protocol core
// calls NIO_* and never a socket.
//
// The socket calls keep the system's conventions, so that a probe reads the same either way:
// -1 (or an empty Result) with errno set on failure. Event loop thread only, as the loop.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "core/address.hpp"
#include "core/clock.hpp"
#include "core/fd_budget.hpp"
#include "core/socket.hpp"
#include "core/status.hpp"

namespace fedprobe {

class Wire {
  public:
    using TimerId = std::uint64_t;
    // Called with EPOLLIN when a packet waits, EPOLLOUT when a connect ended, EPOLLERR when the
    // error queue holds a message: level-triggered, as epoll.
    using Handler = std::function<void(std::uint32_t events)>;

    virtual ~Wire() = default;

    // The clock and the loop.
    virtual TimePoint now() const = 0;
    virtual TimerId add_timer(TimePoint when, std::function<void()> callback) = 0;
    virtual void cancel_timer(TimerId id) = 0;
    // Runs `callback` after the current one, never inside it.
    virtual void defer(std::function<void()> callback) = 0;
    // Runs `drain` in every wake-up after the ready sockets and before any due timer, so what
    // already reached a socket is read before a timeout calls it lost (EventLoop::add_drain).
    virtual std::uint64_t add_drain(std::function<void()> drain) = 0;
    virtual void remove_drain(std::uint64_t id) = 0;
    // The descriptors probes that open a socket each may hold (core/fd_budget.hpp).
    virtual FdBudget& fd_budget() = 0;
    // The wall clock in unix nanoseconds, for times that cross to another host (STAMP's T1);
    // the kernel's receive timestamps are on it.
    virtual std::int64_t wall_ns() const = 0;

    // A non-blocking socket sending from `send`'s source, device and DSCP, its error queue on
    // (IP_RECVERR): ICMP errors about what it sent can be read with read_error().
    virtual Result<int> open(int family, int type, int protocol, const SendOptions& send) = 0;
    // The shared ICMP sockets of the icmp kind: an unprivileged ping socket where
    // net.ipv4.ping_group_range allows (`raw` false), else a raw one (CAP_NET_RAW; `raw` true).
    virtual Result<int> open_icmp(int family, bool& raw) = 0;
    virtual Result<int> open_raw_icmp(int family) = 0;
    // Sets an ICMP socket up to read: receive timestamps, drop counts, a larger buffer, and the
    // error queue (ping) or a filter that passes echo replies and errors (raw).
    virtual Status prepare_icmp_reader(int fd, int family, bool raw) = 0;
    // A raw socket that only sends: it lets no ICMP message in.
    virtual Status block_all_icmp(int fd, int family) = 0;
    // IP_PMTUDISC_DO (or IPV6_DONTFRAG) on or off.
    virtual Status set_dont_fragment(int fd, int family, bool df) = 0;
    // if_nametoindex: 0 with errno for a device the system does not have.
    virtual unsigned interface_index(const std::string& device) = 0;
    // Whether `address` is one of this host's (a bind test).
    virtual bool is_local_address(const IpAddress& address) = 0;
    // The path kind's raw sockets: a reader of `protocol` (ICMP: echo replies and errors; TCP:
    // SYN or RST segments only; IPv6: DF, and hop limits on what it reads) with receive
    // timestamps and drop counts; and a sender (IPv4: IPPROTO_RAW, our own header, DF), bound
    // to `device` when one is given.
    virtual Result<int> open_raw_reader(int family, int protocol) = 0;
    virtual Result<int> open_raw_sender(int family, int protocol, const std::string& device) = 0;
    // A socket bound to an ephemeral port on every address, so the port is ours: (fd, port).
    virtual Result<std::pair<int, std::uint16_t>> hold_port(int family, int type) = 0;
    // The source address the kernel would use towards `destination`.
    virtual Result<IpAddress> route_source(const IpAddress& destination,
                                           const std::string& device) = 0;
    // The MTU of the interface that holds `source` (or of `device`); 0 when unknown.
    virtual int interface_mtu(const IpAddress& source, const std::string& device) = 0;
    // sendto, on a raw socket whose packets carry their own header: an errno, or 0.
    virtual int send_to(int fd, const IpAddress& destination,
                        std::span<const std::uint8_t> packet) = 0;
    // One sendmsg with the packet's options (core/socket.hpp's send_packet): an errno, or 0.
    virtual int send_packet(int fd, const IpAddress& destination, std::uint16_t port,
                            std::span<const std::uint8_t> packet, const PacketOptions& options) = 0;
    // 0, or -1 with errno (EINPROGRESS for a stream socket's handshake under way).
    virtual int connect(int fd, const IpAddress& to, std::uint16_t port) = 0;
    // On a connected socket: the bytes sent, or -1 with errno.
    virtual ssize_t send(int fd, std::span<const std::uint8_t> bytes) = 0;
    // One packet (or a stream's bytes) into `into`: its length, or -1 with errno (EAGAIN: none
    // waits; a connected datagram socket's pending ICMP error as ECONNREFUSED and the like).
    virtual ssize_t receive(int fd, std::span<std::uint8_t> into) = 0;
    // SO_TIMESTAMPNS: from now on every packet read with receive_stamped() carries the wall
    // time the kernel received it.
    virtual Status enable_rx_timestamps(int fd) = 0;
    // As receive(), with that time in `rx_ns` (0 when the kernel gave none).
    virtual ssize_t receive_stamped(int fd, std::span<std::uint8_t> into, std::int64_t& rx_ns) = 0;
    // getsockname: the address and port the socket sends from.
    virtual std::optional<Endpoint> local_endpoint(int fd) = 0;
    // Sends what `queue` holds on fd (sendmmsg, each packet with its options), then reports
    // each packet's errno (0: sent) with its tag, in order.
    virtual void flush(int fd, PacketSender& queue,
                       const std::function<void(std::uint64_t tag, int err)>& report) = 0;
    // Reads a batch into `into` (recvmmsg, with senders and arrival times); 0 when none waits.
    virtual std::size_t receive_batch(int fd, PacketReceiver& into) = 0;
    // Pops the socket's oldest queued error (IP_RECVERR); nullopt when there is none.
    virtual std::optional<QueuedError> read_error(int fd) = 0;
    // SO_ERROR: a connect's result on a stream socket, 0 when it succeeded.
    virtual int pending_error(int fd) = 0;
    // The kernel's TCP keepalive (SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT): after
    // `idle_s` without a packet from the peer, a probe every `interval_s`, and ETIMEDOUT after
    // `count` unanswered.
    virtual Status set_keepalive(int fd, int idle_s, int interval_s, int count) = 0;
    // TCP_INFO: how long ago the peer's last ACK arrived, while the connection is established;
    // nullopt otherwise.
    virtual std::optional<Duration> since_last_ack(int fd) = 0;
    // Calls `handler` while any of `events` holds. A failure leaves fd unwatched.
    virtual Status watch(int fd, std::uint32_t events, Handler handler) = 0;
    virtual Status modify(int fd, std::uint32_t events) = 0;  // a watched socket's events
    virtual void unwatch(int fd) = 0;                         // before close()
    virtual void close(int fd) = 0;
};

}  // namespace fedprobe
