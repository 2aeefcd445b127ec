// The STAMP Session-Reflector ([fedprobe.stamp]): answers test packets from the allowed
// networks on the probing thread's event loop, so the other appliances (or a router's STAMP or
// TWAMP-Light sender) can measure towards this one.
//
// Stateful by default: each session (source address, port and SSID) gets its own counter as
// the reply's sequence number, which is how a sender tells forward from backward loss. It never
// answers with more bytes than it received (the reply mirrors the request's TLVs in place), it
// limits each source's rate, and it stays silent to sources outside `allow`, to packets that do
// not parse, and to a wrong key. What it did is counted by result.
//
// Threads: everything on the event loop's thread, except counts(), which any thread may read.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/address.hpp"
#include "core/clock.hpp"
#include "core/event_loop.hpp"
#include "core/socket.hpp"
#include "core/status.hpp"
#include "probes/lru_table.hpp"
#include "probes/stamp/stamp_packet.hpp"

namespace fedprobe {

struct StampReflectorSettings {
    std::vector<Endpoint> listen;
    std::vector<Prefix> allow;  // sources answered; the allowed networks' prefixes
    bool stateful = true;
    std::optional<StampKey> key;  // authenticated mode
    double rate_limit = 100;      // packets/s per source address
    std::size_t max_sessions = 4096;
    // The federation's STAMP senders (its appliances' addresses): read from a queue of their
    // own, which a flood from other addresses cannot fill (stamp_steering.hpp).
    std::vector<IpAddress> priority;
    friend bool operator==(const StampReflectorSettings&, const StampReflectorSettings&) = default;
};

enum class StampReflected : std::uint8_t {
    reflected,
    refused_source,
    malformed,
    auth_failed,
    rate_limited,
    // The kernel dropped it before the reflector read it: the socket's buffer was full
    // (SO_RXQ_OVFL). A sender counts these as its forward loss; this says the reflector lost
    // them, not the network.
    dropped,
};
inline constexpr std::array kAllStampReflected = {
    StampReflected::reflected,   StampReflected::refused_source, StampReflected::malformed,
    StampReflected::auth_failed, StampReflected::rate_limited,   StampReflected::dropped};
std::string_view to_string(StampReflected r);

// Running totals by result; read from any thread.
struct StampReflectorCounts {
    std::array<std::atomic<std::uint64_t>, kAllStampReflected.size()> packets{};
    std::uint64_t get(StampReflected r) const {
        return packets[static_cast<std::size_t>(r)].load(std::memory_order_relaxed);
    }
};

// One received datagram, as the socket layer reported it.
struct StampArrival {
    std::span<const std::uint8_t> data;
    IpAddress from;
    std::uint16_t from_port = 0;
    IpAddress to;  // the local address it was sent to
    std::uint16_t to_port = 0;
    int tos = 0;  // the whole TOS / traffic-class byte as it arrived
    int ttl = 0;
    std::int64_t rx_ns = 0;  // T2
};

// What to send back, and with which TOS byte (-1: the socket's).
struct StampReply {
    std::vector<std::uint8_t> bytes;
    int tos = -1;
};

class StampReflector {
  public:
    // counts: where it adds what it did; shared so totals outlive a reflector that a reload
    // replaces (null: its own).
    StampReflector(EventLoop& loop, StampReflectorSettings settings,
                   std::shared_ptr<StampReflectorCounts> counts = nullptr);
    ~StampReflector();
    StampReflector(const StampReflector&) = delete;
    StampReflector& operator=(const StampReflector&) = delete;

    // Binds every listen address; fails (and holds nothing) if one cannot be bound.
    Status start();
    const StampReflectorSettings& settings() const { return settings_; }
    const StampReflectorCounts& counts() const { return *counts_; }
    std::size_t sessions() const { return sessions_.size(); }
    std::size_t sources() const { return buckets_.size(); }  // with a rate allowance kept
    // Where it answers, with the ports the kernel chose for any listen port 0 (tests).
    std::vector<Endpoint> bound() const;

    // The decision on one datagram, without sockets: the reply, or nothing (and why, counted).
    // Public for the unit tests and the fuzzer.
    std::optional<StampReply> reflect(const StampArrival& in, TimePoint now);

  private:
    struct Session {
        std::uint32_t next = 0;
        TimePoint last_seen;  // unheard for kSessionIdle, it starts again at 0
    };
    struct Bucket {
        double tokens = 0;
        TimePoint last;
    };
    struct Socket {
        int fd = -1;
        Endpoint local;
        std::uint32_t drops_seen = 0;  // SO_RXQ_OVFL's running total, as last counted
        bool priority = false;         // the federation's senders' own queue
    };

    EventLoop& loop_;
    StampReflectorSettings settings_;
    std::shared_ptr<StampReflectorCounts> counts_;
    std::vector<Socket> sockets_;
    PacketReceiver receiver_;
    // O(1) per packet at any max_sessions, full or not: a flood of spoofed sources must not
    // slow the probing thread that runs this.
    LruTable<Session> sessions_;
    LruTable<Bucket> buckets_;

    void count(StampReflected r) {
        counts_->packets[static_cast<std::size_t>(r)].fetch_add(1, std::memory_order_relaxed);
    }
    bool allowed(const IpAddress& a) const;
    bool take_token(const IpAddress& a, TimePoint now);
    void sweep(TimePoint now);
    void on_readable(Socket& s);
    void close_all();
    // One socket on `ep`; `shared`: SO_REUSEPORT, for a group with the senders' own queue.
    static Result<Socket> open_socket(const Endpoint& ep, bool shared);
};

}  // namespace fedprobe
