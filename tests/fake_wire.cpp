#include "tests/fake_wire.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace fedprobe::test {

FakeWire::FakeWire()
    : now_(TimePoint{} + std::chrono::hours(1000)), start_(now_), wall_base_(realtime_ns()) {
    budget_.set_defer([this](std::function<void()> wake) { defer(std::move(wake)); });
}

Wire::TimerId FakeWire::add_timer(TimePoint when, std::function<void()> callback) {
    const TimerId id = next_timer_++;
    timers_.emplace(std::make_pair(when, id), std::move(callback));
    timer_at_.emplace(id, when);
    return id;
}

void FakeWire::cancel_timer(TimerId id) {
    auto it = timer_at_.find(id);
    if (it == timer_at_.end()) return;  // ran already: the loop allows it
    timers_.erase({it->second, id});
    timer_at_.erase(it);
}

FakeWire::Socket* FakeWire::find(int fd, const char* call) {
    auto it = sockets_.find(fd);
    if (it != sockets_.end()) return &it->second;
    misuse_.push_back(std::string(call) + " on socket " + std::to_string(fd) + ", not open");
    errno = EBADF;
    return nullptr;
}

Result<int> FakeWire::open(int family, int type, int protocol, const SendOptions&) {
    if (int e = open_errno ? open_errno(family, type) : 0) {
        errno = e;
        return Status::error(std::string("socket: ") + std::strerror(e));
    }
    const int fd = next_fd_++;
    Socket& s = sockets_[fd];
    s.family = family;
    s.type = type;
    s.protocol = protocol;
    return fd;
}

int FakeWire::connect(int fd, const IpAddress& to, std::uint16_t port) {
    Socket* s = find(fd, "connect");
    if (!s) return -1;
    s->to = to;
    s->port = port;
    if (s->type != SOCK_STREAM) return 0;
    s->connecting = true;
    if (on_connect)
        on_connect(fd, to, port);
    else
        accept(fd, now_);
    errno = EINPROGRESS;
    return -1;
}

void FakeWire::at_socket(int fd, TimePoint at, std::function<void(Socket&)> change) {
    add_timer(std::max(at, now_), [this, fd, change = std::move(change)] {
        auto it = sockets_.find(fd);
        if (it == sockets_.end()) {
            ++dropped_on_closed_;
            return;
        }
        change(it->second);
    });
}

void FakeWire::accept(int fd, TimePoint at) {
    at_socket(fd, at, [this, fd](Socket& s) {
        s.connecting = false;
        s.connected = true;
        heard_from_peer(fd, s);
    });
}

void FakeWire::heard_from_peer(int fd, Socket& s) {
    s.heard = now_;
    s.unanswered = 0;
    arm_keepalive(fd, s);
}

void FakeWire::arm_keepalive(int fd, Socket& s) {
    if (s.keepalive_timer) cancel_timer(s.keepalive_timer);
    s.keepalive_timer = 0;
    if (!s.keepalive || !s.connected || s.pending_err || s.eof) return;
    const TimePoint at = s.unanswered ? now_ + std::chrono::seconds(s.keepalive->interval)
                                      : s.heard + std::chrono::seconds(s.keepalive->idle);
    s.keepalive_timer = add_timer(at, [this, fd] { on_keepalive_due(fd); });
}

void FakeWire::on_keepalive_due(int fd) {
    auto it = sockets_.find(fd);
    if (it == sockets_.end()) return;
    Socket& s = it->second;
    s.keepalive_timer = 0;
    const KeepaliveAnswer answer = on_keepalive ? on_keepalive(fd) : KeepaliveAnswer::ack;
    if (answer == KeepaliveAnswer::ack)
        return at_socket(fd, now_ + round_trip, [this, fd](Socket& s) { heard_from_peer(fd, s); });
    if (answer == KeepaliveAnswer::reset)
        return refuse(fd, ECONNRESET, now_ + round_trip);  // the connection is gone
    if (++s.unanswered >= s.keepalive->count) {
        s.pending_err = ETIMEDOUT;
        s.connected = false;
        return;
    }
    arm_keepalive(fd, s);
}

Status FakeWire::set_keepalive(int fd, int idle_s, int interval_s, int count) {
    Socket* s = find(fd, "set_keepalive");
    if (!s) return Status::error("setsockopt: bad descriptor");
    if (s->type != SOCK_STREAM || idle_s < 1 || interval_s < 1 || count < 1) {
        errno = EINVAL;
        return Status::from_errno("setsockopt(keepalive)", EINVAL);
    }
    s->keepalive = Socket::Keepalive{idle_s, interval_s, count};
    arm_keepalive(fd, *s);
    return Status();
}

std::optional<Duration> FakeWire::since_last_ack(int fd) {
    Socket* s = find(fd, "since_last_ack");
    if (!s || !s->connected || s->pending_err) return std::nullopt;
    return now_ - s->heard;
}

void FakeWire::refuse(int fd, int err, TimePoint at) {
    at_socket(fd, at, [this, err](Socket& s) {
        s.connecting = false;
        s.connected = false;
        s.pending_err = err;
        if (s.keepalive_timer) cancel_timer(std::exchange(s.keepalive_timer, 0));
    });
}

void FakeWire::close_peer(int fd, TimePoint at) {
    at_socket(fd, at, [this](Socket& s) {
        s.eof = true;
        if (s.keepalive_timer) cancel_timer(std::exchange(s.keepalive_timer, 0));
    });
}

ssize_t FakeWire::send(int fd, std::span<const std::uint8_t> bytes) {
    Socket* s = find(fd, "send");
    if (!s) return -1;
    if (!s->to) {
        errno = EDESTADDRREQ;
        return -1;
    }
    if (s->type == SOCK_STREAM && !s->connected) {
        errno = s->pending_err ? std::exchange(s->pending_err, 0) : EAGAIN;
        return -1;
    }
    Sent sent{fd,  s->family, s->type, s->protocol, *s->to, s->port, {bytes.begin(), bytes.end()},
              now_};
    if (int e = send_errno ? send_errno(sent) : 0) {
        errno = e;
        return -1;
    }
    if (on_send) on_send(sent);
    return static_cast<ssize_t>(bytes.size());
}

ssize_t FakeWire::receive(int fd, std::span<std::uint8_t> into) {
    Socket* s = find(fd, "receive");
    if (!s) return -1;
    if (s->pending_err) {
        errno = std::exchange(s->pending_err, 0);
        return -1;
    }
    if (s->type == SOCK_STREAM) {
        if (s->stream.empty()) {
            if (s->eof) return 0;
            errno = EAGAIN;
            return -1;
        }
        const std::size_t n = std::min(s->stream.size(), into.size());
        std::copy_n(s->stream.begin(), n, into.begin());
        s->stream.erase(s->stream.begin(), s->stream.begin() + static_cast<std::ptrdiff_t>(n));
        return static_cast<ssize_t>(n);
    }
    if (s->packets.empty()) {
        errno = EAGAIN;
        return -1;
    }
    std::vector<std::uint8_t> p = std::move(s->packets.front());
    s->packets.pop_front();
    s->packets_rx_ns.pop_front();
    s->packets_from.pop_front();
    const std::size_t n = std::min(p.size(), into.size());  // a datagram is cut to the buffer
    std::copy_n(p.begin(), n, into.begin());
    return static_cast<ssize_t>(n);
}

Status FakeWire::enable_rx_timestamps(int fd) {
    Socket* s = find(fd, "enable_rx_timestamps");
    if (!s) return Status::error("setsockopt: bad descriptor");
    s->timestamps = true;
    return Status();
}

ssize_t FakeWire::receive_stamped(int fd, std::span<std::uint8_t> into, std::int64_t& rx_ns) {
    rx_ns = 0;
    Socket* s = find(fd, "receive_stamped");
    if (!s) return -1;
    const std::int64_t at = s->packets_rx_ns.empty() ? 0 : s->packets_rx_ns.front();
    const ssize_t n = receive(fd, into);
    if (n >= 0 && s->timestamps && s->type != SOCK_STREAM) rx_ns = at;
    return n;
}

std::optional<Endpoint> FakeWire::local_endpoint(int fd) {
    Socket* s = find(fd, "local_endpoint");
    if (!s) return std::nullopt;
    const char* address = s->family == AF_INET6 ? "fd00::1" : "10.0.0.1";
    return Endpoint{*IpAddress::parse(address), static_cast<std::uint16_t>(30000 + fd)};
}

std::optional<QueuedError> FakeWire::read_error(int fd) {
    Socket* s = find(fd, "read_error");
    if (!s || s->errors.empty()) return std::nullopt;
    QueuedError e = std::move(s->errors.front());
    s->errors.pop_front();
    // As sock_dequeue_err_skb: SO_ERROR becomes the next queued error's, or none.
    s->pending_err = s->errors.empty() ? 0 : s->errors.front().err;
    return e;
}

int FakeWire::pending_error(int fd) {
    Socket* s = find(fd, "pending_error");
    if (!s) return EBADF;
    return std::exchange(s->pending_err, 0);
}

Status FakeWire::watch(int fd, std::uint32_t events, Handler handler) {
    Socket* s = find(fd, "watch");
    if (!s) return Status::error("epoll_ctl: bad descriptor");
    if (s->watched) {
        misuse_.push_back("watch twice on socket " + std::to_string(fd));
        return Status::error("epoll_ctl: already watched");
    }
    s->watched = true;
    s->events = events;
    s->handler = std::move(handler);
    return Status();
}

Status FakeWire::modify(int fd, std::uint32_t events) {
    Socket* s = find(fd, "modify");
    if (!s || !s->watched) {
        if (s) misuse_.push_back("modify of socket " + std::to_string(fd) + ", not watched");
        return Status::error("epoll_ctl: not watched");
    }
    s->events = events;
    return Status();
}

void FakeWire::unwatch(int fd) {
    auto it = sockets_.find(fd);
    if (it == sockets_.end()) return;  // as EventLoop::remove_fd: a no-op for an unknown one
    it->second.watched = false;
    it->second.handler = nullptr;
}

void FakeWire::close(int fd) {
    auto it = sockets_.find(fd);
    if (it == sockets_.end()) {
        misuse_.push_back("close of socket " + std::to_string(fd) + ", not open");
        return;
    }
    if (it->second.watched)
        misuse_.push_back("close of socket " + std::to_string(fd) + " while watched");
    if (it->second.keepalive_timer) cancel_timer(it->second.keepalive_timer);
    sockets_.erase(it);
}

void FakeWire::deliver(int fd, std::vector<std::uint8_t> bytes, TimePoint at) {
    at_socket(fd, at, [this, fd, bytes = std::move(bytes)](Socket& s) {
        if (s.type == SOCK_STREAM) {
            s.stream.insert(s.stream.end(), bytes.begin(), bytes.end());
            heard_from_peer(fd, s);
        } else {
            s.packets.push_back(bytes);
            s.packets_rx_ns.push_back(wall_ns());
            s.packets_from.push_back(s.to);
        }
    });
}

void FakeWire::deliver_from(int fd, std::vector<std::uint8_t> bytes, IpAddress from, TimePoint at) {
    at_socket(fd, at, [this, bytes = std::move(bytes), from](Socket& s) {
        s.packets.push_back(bytes);
        s.packets_rx_ns.push_back(wall_ns());
        s.packets_from.push_back(from);
    });
}

std::uint64_t FakeWire::add_drain(std::function<void()> drain) {
    const std::uint64_t id = next_drain_++;
    drains_.emplace(id, std::move(drain));
    return id;
}

void FakeWire::run_drains() {
    std::vector<std::uint64_t> ids;
    for (const auto& [id, d] : drains_)
        ids.push_back(id);
    for (std::uint64_t id : ids)
        if (auto it = drains_.find(id); it != drains_.end()) it->second();
    run_deferred();
}

Result<int> FakeWire::open_icmp(int family, bool& raw) {
    raw = false;
    return open(family, SOCK_DGRAM, family == AF_INET ? int{IPPROTO_ICMP} : int{IPPROTO_ICMPV6},
                {});
}

Result<int> FakeWire::open_raw_icmp(int family) {
    return open(family, SOCK_RAW, family == AF_INET ? int{IPPROTO_ICMP} : int{IPPROTO_ICMPV6}, {});
}

unsigned FakeWire::interface_index(const std::string& device) {
    if (device == "eth0") return 2;
    errno = ENODEV;
    return 0;
}

bool FakeWire::is_local_address(const IpAddress& address) {
    return address == *IpAddress::parse("10.0.0.1") || address == *IpAddress::parse("fd00::1");
}

Result<int> FakeWire::open_raw_reader(int family, int protocol) {
    return open(family, SOCK_RAW, protocol, {});
}

Result<int> FakeWire::open_raw_sender(int family, int protocol, const std::string&) {
    return open(family, SOCK_RAW, family == AF_INET ? int{IPPROTO_RAW} : protocol, {});
}

Result<std::pair<int, std::uint16_t>> FakeWire::hold_port(int family, int type) {
    auto fd = open(family, type, 0, {});
    if (!fd.ok()) return fd.status();
    return std::make_pair(*fd, static_cast<std::uint16_t>(40000 + *fd % 20000));
}

Result<IpAddress> FakeWire::route_source(const IpAddress& destination, const std::string&) {
    return *IpAddress::parse(destination.family == AF_INET ? "10.0.0.1" : "fd00::1");
}

std::vector<int> FakeWire::sockets_of(int family, int type, int protocol) const {
    std::vector<int> out;
    for (const auto& [fd, s] : sockets_)
        if (s.family == family && s.type == type && s.protocol == protocol) out.push_back(fd);
    return out;
}

int FakeWire::sent(int fd, const IpAddress& to, std::uint16_t port,
                   std::span<const std::uint8_t> bytes, const PacketOptions& options) {
    Socket* s = find(fd, "send");
    if (!s) return EBADF;
    Sent sent{fd, s->family, s->type, s->protocol, to, port, {bytes.begin(), bytes.end()}, now_};
    if (int e = send_errno ? send_errno(sent) : 0) return e;
    if (on_send_packet) on_send_packet(sent, options);
    if (on_send) on_send(sent);
    return 0;
}

int FakeWire::send_to(int fd, const IpAddress& destination, std::span<const std::uint8_t> packet) {
    return sent(fd, destination, 0, packet, {});
}

int FakeWire::send_packet(int fd, const IpAddress& destination, std::uint16_t port,
                          std::span<const std::uint8_t> packet, const PacketOptions& options) {
    return sent(fd, destination, port, packet, options);
}

void FakeWire::flush(int fd, PacketSender& queue,
                     const std::function<void(std::uint64_t, int)>& report) {
    if (!find(fd, "flush")) return;
    queue.flush_with(
        [&](const IpAddress& to, std::uint16_t port, std::span<const std::uint8_t> bytes,
            const PacketOptions& options) { return sent(fd, to, port, bytes, options); },
        report);
}

std::size_t FakeWire::receive_batch(int fd, PacketReceiver& into) {
    Socket* s = find(fd, "receive_batch");
    if (!s) return 0;
    std::vector<PacketReceiver::Incoming> batch;
    while (!s->packets.empty() && batch.size() < PacketReceiver::kBatch) {
        batch.push_back({std::move(s->packets.front()), s->packets_from.front(),
                         s->packets_rx_ns.front()});  // a reader has timestamps on
        s->packets.pop_front();
        s->packets_rx_ns.pop_front();
        s->packets_from.pop_front();
    }
    return batch.empty() ? 0 : into.load(batch, 0);  // the fake never overflows a socket
}

void FakeWire::deliver_error(int fd, QueuedError error, TimePoint at) {
    at_socket(fd, at, [error = std::move(error)](Socket& s) {
        // Linux sets SO_ERROR only on a connected socket (or with IP_RECVERR, always on here).
        if (s.to) s.pending_err = error.err;
        s.errors.push_back(error);
    });
}

std::string FakeWire::misuse_text() const {
    std::string out;
    for (const auto& m : misuse_)
        out += m + "\n";
    return out;
}

std::string FakeWire::pending_timers_text() const {
    std::string out;
    for (const auto& [key, callback] : timers_)
        out += std::to_string(std::chrono::duration<double>(key.first - now_).count()) + "s ";
    return out;
}

void FakeWire::run_deferred() {
    while (!deferred_.empty()) {
        auto batch = std::move(deferred_);
        deferred_.clear();
        for (auto& f : batch)
            f();
    }
}

void FakeWire::dispatch_ready() {
    for (int pass = 0;; ++pass) {
        bool any = false;
        // Copied: a handler may open or close sockets.
        std::vector<int> fds;
        for (const auto& [fd, s] : sockets_)
            if (s.watched) fds.push_back(fd);
        for (int fd : fds) {
            auto it = sockets_.find(fd);
            if (it == sockets_.end() || !it->second.watched) continue;
            Socket& s = it->second;
            std::uint32_t ready = 0;
            const bool readable = !s.packets.empty() || !s.stream.empty() || s.eof;
            if (readable && (s.events & EPOLLIN)) ready |= EPOLLIN;
            if (s.connected && (s.events & EPOLLOUT)) ready |= EPOLLOUT;
            // epoll reports an error whatever the mask
            if (!s.errors.empty() || s.pending_err) ready |= EPOLLERR;
            if (!ready) continue;
            any = true;
            Handler h = s.handler;  // the handler may unwatch, which drops s.handler
            h(ready);
        }
        run_deferred();
        if (!any) return;
        if (pass == 1000) {
            misuse_.push_back("a handler leaves its socket ready without reading it");
            return;
        }
    }
}

void FakeWire::run_until(TimePoint until) {
    for (;;) {
        dispatch_ready();
        if (timers_.empty() || timers_.begin()->first.first > until) break;
        // As the loop: what reached a socket is read before a due timer runs.
        run_drains();
        auto it = timers_.begin();
        now_ = std::max(now_, it->first.first);
        auto callback = std::move(it->second);
        timer_at_.erase(it->first.second);
        timers_.erase(it);
        callback();
    }
    now_ = std::max(now_, until);
}

void FakeWire::run_until_idle(Duration limit) {
    const TimePoint end = now_ + limit;
    for (;;) {
        dispatch_ready();  // deferred work first: it may be what sets the timers
        if (timers_.empty() || timers_.begin()->first.first > end) return;
        run_until(timers_.begin()->first.first);
    }
}

}  // namespace fedprobe::test
