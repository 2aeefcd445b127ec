// A Wire for tests (core/wire.hpp): a clock that moves only when the test runs it, timers and
// deferred callbacks in the loop's order, and sockets that exist only in this object. What a
// probe sends goes to `on_send`, the test's network, which answers with deliver() and
// deliver_error() at times of its choosing: late, twice, out of order, or never. Socket numbers
// are never reused, so an answer scheduled for a socket that has closed is dropped, as the
// kernel drops a datagram to a port nobody holds any more.
//
// As Linux with IP_RECVERR: an error delivered to a connected socket is queued (read_error())
// and also pending (the next receive() fails with its errno) until the queue is read. A stream
// socket's connect is under way (EINPROGRESS) until the network accepts or refuses it
// (on_connect); without an on_connect it is accepted at once. Stream bytes arrive as a byte
// stream, a datagram socket's as packets.
//
// Misuse that the kernel would answer with EBADF (a call on a socket that is not open, a watch
// twice, a close of a watched socket) is recorded in misuse() for the test to assert empty.
// One thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/wire.hpp"

namespace fedprobe::test {

class FakeWire final : public Wire {
  public:
    struct Sent {
        int fd = -1;
        int family = 0, type = 0, protocol = 0;
        IpAddress to;
        std::uint16_t port = 0;
        std::vector<std::uint8_t> bytes;
        TimePoint at{};
    };

    FakeWire();

    // The test's network: sees every packet sent, once the send has succeeded.
    std::function<void(const Sent&)> on_send;
    // A stream socket's connect: the network answers with accept() or refuse().
    std::function<void(int fd, const IpAddress& to, std::uint16_t port)> on_connect;
    // The kernel's keepalive (set_keepalive) on an established stream, as Linux runs it: the
    // first probe `idle` after the peer was last heard, then every `interval`, ETIMEDOUT after
    // `count` unanswered. The network answers each (default: an ACK). An ACK or a RST takes
    // `round_trip`; data delivered to the socket counts as hearing from the peer.
    enum class KeepaliveAnswer { ack, none, reset };
    std::function<KeepaliveAnswer(int fd)> on_keepalive;
    Duration round_trip = std::chrono::milliseconds(1);
    // Errno for the next open(), connect() or send() (0: success); each test resets it.
    std::function<int(int family, int type)> open_errno;
    std::function<int(const Sent&)> send_errno;

    // The network's side: the packet reaches the socket at `at` (now if earlier), from the
    // socket's peer (or `from`, for a socket that is not connected: an ICMP socket's replies).
    void deliver(int fd, std::vector<std::uint8_t> bytes, TimePoint at);
    void deliver_from(int fd, std::vector<std::uint8_t> bytes, IpAddress from, TimePoint at);
    void deliver_error(int fd, QueuedError error, TimePoint at);
    // A stream socket's handshake ends at `at`: connected, or failed with `err`.
    void accept(int fd, TimePoint at);
    void refuse(int fd, int err, TimePoint at);
    // The peer closes a stream: receive() reads 0 once the bytes before it are read.
    void close_peer(int fd, TimePoint at);

    // Runs what is due up to `until` in time order, then leaves the clock there.
    void run_until(TimePoint until);
    // Runs until no timer is left, or `limit` of virtual time has passed.
    void run_until_idle(Duration limit);

    std::size_t open_sockets() const { return sockets_.size(); }
    std::size_t pending_timers() const { return timers_.size(); }
    // How far off each pending timer is, soonest first: for a test's failure message.
    std::string pending_timers_text() const;
    std::uint64_t dropped_on_closed() const { return dropped_on_closed_; }
    const std::vector<std::string>& misuse() const { return misuse_; }
    std::string misuse_text() const;  // one line each, for a failing check's message

    // Wire
    TimePoint now() const override { return now_; }
    TimerId add_timer(TimePoint when, std::function<void()> callback) override;
    void cancel_timer(TimerId id) override;
    void defer(std::function<void()> callback) override {
        deferred_.push_back(std::move(callback));
    }
    std::uint64_t add_drain(std::function<void()> drain) override;
    void remove_drain(std::uint64_t id) override { drains_.erase(id); }
    FdBudget& fd_budget() override { return budget_; }
    // The wall clock moves with the virtual one, from the real time the fake was made.
    std::int64_t wall_ns() const override {
        return wall_base_ +
               std::chrono::duration_cast<std::chrono::nanoseconds>(now_ - start_).count();
    }
    Status enable_rx_timestamps(int fd) override;
    ssize_t receive_stamped(int fd, std::span<std::uint8_t> into, std::int64_t& rx_ns) override;
    // 10.0.0.1 or fd00::1, and a port of the socket's own.
    std::optional<Endpoint> local_endpoint(int fd) override;
    Result<int> open(int family, int type, int protocol, const SendOptions& send) override;
    // Ping sockets (raw = false), as an unprivileged daemon gets; each is its own reader.
    Result<int> open_icmp(int family, bool& raw) override;
    Result<int> open_raw_icmp(int family) override;
    Status prepare_icmp_reader(int, int, bool) override { return Status(); }
    Status block_all_icmp(int, int) override { return Status(); }
    Status set_dont_fragment(int, int, bool) override { return Status(); }
    // "eth0" is 2; any other device is unknown.
    unsigned interface_index(const std::string& device) override;
    bool is_local_address(const IpAddress& address) override;
    void flush(int fd, PacketSender& queue,
               const std::function<void(std::uint64_t, int)>& report) override;
    std::size_t receive_batch(int fd, PacketReceiver& into) override;
    // The path kind's: raw readers and senders that exist only here (a test finds the readers
    // with sockets_of() to deliver to them), ports from 40000, the source 10.0.0.1 (fd00::1),
    // and the interface MTU `mtu`.
    Result<int> open_raw_reader(int family, int protocol) override;
    Result<int> open_raw_sender(int family, int protocol, const std::string& device) override;
    Result<std::pair<int, std::uint16_t>> hold_port(int family, int type) override;
    Result<IpAddress> route_source(const IpAddress& destination,
                                   const std::string& device) override;
    int interface_mtu(const IpAddress&, const std::string&) override { return mtu; }
    int send_to(int fd, const IpAddress& destination,
                std::span<const std::uint8_t> packet) override;
    int send_packet(int fd, const IpAddress& destination, std::uint16_t port,
                    std::span<const std::uint8_t> packet, const PacketOptions& options) override;
    int mtu = 1500;
    // The open sockets of a type and protocol, oldest first.
    std::vector<int> sockets_of(int family, int type, int protocol) const;
    // What an ICMP socket's sends carried: its destination and per-packet options, in Sent.
    std::function<void(const Sent&, const PacketOptions&)> on_send_packet;
    int connect(int fd, const IpAddress& to, std::uint16_t port) override;
    ssize_t send(int fd, std::span<const std::uint8_t> bytes) override;
    ssize_t receive(int fd, std::span<std::uint8_t> into) override;
    std::optional<QueuedError> read_error(int fd) override;
    int pending_error(int fd) override;
    Status set_keepalive(int fd, int idle_s, int interval_s, int count) override;
    std::optional<Duration> since_last_ack(int fd) override;
    Status watch(int fd, std::uint32_t events, Handler handler) override;
    Status modify(int fd, std::uint32_t events) override;
    void unwatch(int fd) override;
    void close(int fd) override;

  private:
    struct Socket {
        int family = 0, type = 0, protocol = 0;
        std::optional<IpAddress> to;
        std::uint16_t port = 0;
        std::deque<std::vector<std::uint8_t>> packets;  // datagram sockets
        std::deque<std::int64_t> packets_rx_ns;         // each one's arrival, on wall_ns()
        std::deque<std::optional<IpAddress>> packets_from;
        bool timestamps = false;
        std::deque<std::uint8_t> stream;  // stream sockets' bytes in
        bool connecting = false, connected = false, eof = false;
        int pending_err = 0;  // SO_ERROR, as the kernel's sk_err
        struct Keepalive {
            int idle = 0, interval = 0, count = 0;
        };
        std::optional<Keepalive> keepalive;
        TimePoint heard{};  // the peer's last packet, data or ACK
        int unanswered = 0;
        TimerId keepalive_timer = 0;
        std::deque<QueuedError> errors;
        std::uint32_t events = 0;
        Handler handler;
        bool watched = false;
    };
    Socket* find(int fd, const char* call);
    // Runs `change` on the socket at `at`, or counts it dropped if the socket has closed.
    void at_socket(int fd, TimePoint at, std::function<void(Socket&)> change);
    // Sets the socket's next keepalive probe from what it last heard, or its last probe.
    void arm_keepalive(int fd, Socket& s);
    void on_keepalive_due(int fd);
    void heard_from_peer(int fd, Socket& s);
    // A send on fd to `to`: the test's errno for it, else on_send_packet and on_send.
    int sent(int fd, const IpAddress& to, std::uint16_t port, std::span<const std::uint8_t> bytes,
             const PacketOptions& options);
    // The epoll wait: every watched socket whose events hold is called, until none does.
    void dispatch_ready();
    void run_deferred();
    void run_drains();

    TimePoint now_;
    TimePoint start_;
    std::int64_t wall_base_;
    FdBudget budget_;
    std::map<int, Socket> sockets_;
    int next_fd_ = 1000;
    // Timers by (when, id): equal times run in the order they were added.
    std::map<std::pair<TimePoint, TimerId>, std::function<void()>> timers_;
    std::map<TimerId, TimePoint> timer_at_;
    TimerId next_timer_ = 1;
    std::vector<std::function<void()>> deferred_;
    std::map<std::uint64_t, std::function<void()>> drains_;
    std::uint64_t next_drain_ = 1;
    std::uint64_t dropped_on_closed_ = 0;
    std::vector<std::string> misuse_;
};

}  // namespace fedprobe::test
