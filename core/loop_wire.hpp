// The real Wire: the probing thread's EventLoop and the kernel's sockets (core/socket.hpp).
// Every call is the system call it names, checked as the probes checked it before. Event loop
// thread only.
#pragma once

#include "core/event_loop.hpp"
#include "core/wire.hpp"

namespace fedprobe {

class LoopWire final : public Wire {
  public:
    explicit LoopWire(EventLoop& loop) : loop_(loop) {}

    TimePoint now() const override { return loop_.now(); }
    TimerId add_timer(TimePoint when, std::function<void()> callback) override {
        return loop_.add_timer(when, std::move(callback));
    }
    void cancel_timer(TimerId id) override { loop_.cancel_timer(id); }
    void defer(std::function<void()> callback) override { loop_.defer(std::move(callback)); }
    std::uint64_t add_drain(std::function<void()> drain) override {
        return loop_.add_drain(std::move(drain));
    }
    void remove_drain(std::uint64_t id) override { loop_.remove_drain(id); }
    FdBudget& fd_budget() override { return loop_.fd_budget(); }
    std::int64_t wall_ns() const override { return realtime_ns(); }

    Result<int> open(int family, int type, int protocol, const SendOptions& send) override;
    Result<int> open_icmp(int family, bool& raw) override;
    Result<int> open_raw_icmp(int family) override;
    Status prepare_icmp_reader(int fd, int family, bool raw) override;
    Status block_all_icmp(int fd, int family) override {
        return fedprobe::block_all_icmp(fd, family);
    }
    Status set_dont_fragment(int fd, int family, bool df) override {
        return fedprobe::set_dont_fragment(fd, family, df);
    }
    unsigned interface_index(const std::string& device) override;
    Result<int> open_raw_reader(int family, int protocol) override;
    Result<int> open_raw_sender(int family, int protocol, const std::string& device) override;
    Result<std::pair<int, std::uint16_t>> hold_port(int family, int type) override;
    Result<IpAddress> route_source(const IpAddress& destination,
                                   const std::string& device) override;
    int interface_mtu(const IpAddress& source, const std::string& device) override;
    int send_to(int fd, const IpAddress& destination,
                std::span<const std::uint8_t> packet) override;
    int send_packet(int fd, const IpAddress& destination, std::uint16_t port,
                    std::span<const std::uint8_t> packet, const PacketOptions& options) override {
        return fedprobe::send_packet(fd, destination, port, packet, options);
    }
    bool is_local_address(const IpAddress& address) override;
    void flush(int fd, PacketSender& queue,
               const std::function<void(std::uint64_t, int)>& report) override {
        queue.flush(fd, report);
    }
    std::size_t receive_batch(int fd, PacketReceiver& into) override { return into.receive(fd); }
    int connect(int fd, const IpAddress& to, std::uint16_t port) override;
    ssize_t send(int fd, std::span<const std::uint8_t> bytes) override;
    ssize_t receive(int fd, std::span<std::uint8_t> into) override;
    Status enable_rx_timestamps(int fd) override { return fedprobe::enable_rx_timestamps(fd); }
    ssize_t receive_stamped(int fd, std::span<std::uint8_t> into, std::int64_t& rx_ns) override;
    std::optional<Endpoint> local_endpoint(int fd) override;
    std::optional<QueuedError> read_error(int fd) override;
    int pending_error(int fd) override;
    Status set_keepalive(int fd, int idle_s, int interval_s, int count) override;
    std::optional<Duration> since_last_ack(int fd) override;
    Status watch(int fd, std::uint32_t events, Handler handler) override {
        return loop_.add_fd(fd, events, std::move(handler));
    }
    Status modify(int fd, std::uint32_t events) override { return loop_.modify_fd(fd, events); }
    void unwatch(int fd) override { loop_.remove_fd(fd); }
    void close(int fd) override;

  private:
    EventLoop& loop_;
};

}  // namespace fedprobe
