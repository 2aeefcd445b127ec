// The TTL of the SYN-ACK and of any reset on the application probes' connections, read from a
// raw TCP socket that a BPF filter limits to segments with RST or SYN+ACK set. A reset whose
// TTL says it came from nearer than the SYN-ACK's sender was forged by a device on the way (an
// application-aware firewall), not sent by the server. Without CAP_NET_RAW nothing is seen and
// ttls() says so. Event loop thread only.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <tuple>

#include "core/address.hpp"
#include "core/event_loop.hpp"
#include "core/status.hpp"

namespace fedprobe {

// One segment as the raw socket handed it over: from `remote`:`remote_port` to our
// `local_port`.
struct SeenSegment {
    IpAddress remote;
    std::uint16_t remote_port = 0;
    std::uint16_t local_port = 0;
    int ttl = -1;  // the IPv4 TTL or IPv6 hop limit on arrival
    bool reset = false;
    bool syn_ack = false;
};

// An IPv4 packet from a raw IPPROTO_TCP socket (the IP header first). nullopt: not a whole
// TCP header, or neither flag.
std::optional<SeenSegment> parse_seen_v4(std::span<const std::uint8_t> packet);
// A TCP header from a raw IPv6 socket, whose source and hop limit come beside it.
std::optional<SeenSegment> parse_seen_v6(std::span<const std::uint8_t> segment,
                                         const IpAddress& source, int hop_limit);

// The hops from the appliance to a sender whose packet arrived with `ttl`, taking the initial
// TTL to be the next of 32, 64, 128 and 255 at or above it (what stacks use).
int hops_from_ttl(int ttl);

class ResetWatcher {
  public:
    // The one watcher of `loop`, shared by every application kind's probe on it: each raw
    // socket is handed a copy of every SYN-ACK and reset, so one per kind would copy each
    // packet once per kind.
    static std::shared_ptr<ResetWatcher> of(EventLoop& loop);
    explicit ResetWatcher(EventLoop& loop) : loop_(loop) {}
    ~ResetWatcher();
    ResetWatcher(const ResetWatcher&) = delete;
    ResetWatcher& operator=(const ResetWatcher&) = delete;

    struct Ttls {
        int syn_ack = -1;
        int reset = -1;
    };
    // Keeps the TTLs of segments from remote:remote_port to local_port from now on; false when
    // there is no raw socket for the family (no CAP_NET_RAW), so nothing will be seen.
    bool watch(const IpAddress& remote, std::uint16_t remote_port, std::uint16_t local_port);
    // What was seen so far, reading everything the socket holds first.
    Ttls ttls(const IpAddress& remote, std::uint16_t remote_port, std::uint16_t local_port);
    // Reads what the sockets hold now.
    void drain_all();
    void forget(const IpAddress& remote, std::uint16_t remote_port, std::uint16_t local_port);

  private:
    using Key = std::tuple<int, std::array<std::uint8_t, 16>, std::uint16_t, std::uint16_t>;
    static Key key(const IpAddress& a, std::uint16_t rp, std::uint16_t lp) {
        return {a.family, a.bytes, rp, lp};
    }
    EventLoop& loop_;
    int fd4_ = -1, fd6_ = -1;
    bool tried4_ = false, tried6_ = false;
    std::map<Key, Ttls> watched_;
    // Reads the sockets every kDrainEvery while anything is watched, so they never fill between
    // the probes' own reads. Cheaper than a wakeup per SYN-ACK: the batch is one recvmmsg.
    EventLoop::TimerId timer_ = 0;

    int socket_for(int family);
    void drain(int fd, int family);
    void arm();
};

}  // namespace fedprobe
