// The path MTU search of a path round, apart from its sockets: which sizes and TTLs to probe in
// each stage, what the answers mean, and when a silent loss of large packets is a black hole.
// Pure logic, driven by PathProbe (path_probe_mtu.cpp) and unit tested; any thread.
//
// A search starts with one DF probe of the interface's MTU toward the destination: on most
// paths it arrives and the search is over in one packet. Otherwise each stage narrows the
// range between the largest size that arrived (`lo`) and the smallest that did not (`hi`):
//   - a packet-too-big's next-hop MTU inside the range is tried first, alone; when it arrives,
//     it is the answer;
//   - then every plateau inside the range at once (RFC 1191's table and the tunnel MTUs);
//   - then up to kRefine sizes spread over the range, until it closes or kMaxStages run out.
// A size that vanishes without packet-too-big, while smaller ones arrive and no packet-too-big
// explains it (routers rate-limit them), is a black hole. Its place is found with one more
// stage: that size at every TTL short of the destination; the last hop that answers is where
// large packets still get through, and the hole lies after it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/address.hpp"

namespace fedprobe {

// What a search found; mtu 0 when nothing reached the destination.
struct PathMtu {
    enum class Source : std::uint8_t { search, ptb };
    int mtu = 0;
    Source source = Source::search;  // ptb: a packet-too-big gave the value, from `reporter`
    std::optional<IpAddress> reporter;
    std::string reporter_network;
    int local_mtu = 0;      // where the search started: the interface's MTU
    int lowest_failed = 0;  // the smallest size known not to pass (0: none)
    bool blackhole = false;
    int blackhole_size = 0;  // the size that vanished
    int blackhole_ttl = 0;   // the last TTL that answered a probe of that size (0: none)
    std::optional<IpAddress> blackhole_hop;
    std::string blackhole_network;
    int packets = 0;  // sent by the search, retries included
    int stages = 0;
    friend bool operator==(const PathMtu&, const PathMtu&) = default;
};
std::string_view to_string(PathMtu::Source s);

// RFC 1191's plateau table with the MTUs of common tunnels, largest first.
std::span<const int> mtu_plateaus();

// One probe of a stage: `size` bytes (IP header included) with DF, at `ttl` (0: the round's
// ordinary TTL, far enough to reach the destination).
struct MtuProbe {
    int size = 0;
    int ttl = 0;
    friend bool operator==(const MtuProbe&, const MtuProbe&) = default;
};

class MtuSearch {
  public:
    static constexpr int kMaxStages = 6;  // size stages; the black-hole stage comes on top
    static constexpr std::size_t kRefine = 7;
    static constexpr std::size_t kMaxProbes = 64;  // per stage: the probe number's 6 bits

    // `local_mtu`: the interface's MTU, the largest size tried. `floor`: the smallest MTU the
    // family allows (68, or 1280 for IPv6). `known_ok`: a size already seen to arrive (the
    // trace's probes), 0 for none. `destination_ttl`: the destination's TTL, for the black-hole
    // stage (0 or 1: no stage).
    MtuSearch(int local_mtu, int floor, int known_ok, int destination_ttl);

    // The next stage's probes; empty once the search has concluded.
    std::vector<MtuProbe> next();
    // What became of probe `i` of the stage next() returned last. Each probe gets one call.
    void reached(std::size_t i);
    // Packet-too-big (next_hop_mtu 0 when it gave none), or a local EMSGSIZE (no reporter).
    void too_big(std::size_t i, int next_hop_mtu, std::optional<IpAddress> reporter);
    // A router answered (time exceeded): in the black-hole stage, the size got that far.
    void hop_answered(std::size_t i, const IpAddress& from);
    // No answer after every attempt.
    void silent(std::size_t i);

    bool done() const { return done_; }
    const PathMtu& result() const { return result_; }
    void count_packet() { ++result_.packets; }

  private:
    struct Ptb {
        int mtu;
        int size;  // of the probe it answered
        std::optional<IpAddress> from;
    };
    int floor_;
    int lo_;
    int hi_;
    int destination_ttl_;
    bool locating_ = false;  // the black-hole stage has gone out
    bool done_ = false;
    std::vector<MtuProbe> stage_;
    std::vector<int> tried_;
    std::vector<int> silent_sizes_;
    std::vector<Ptb> ptbs_;
    PathMtu result_;

    void failed(int size);
    void conclude();
    std::optional<int> hole_size() const;
};

}  // namespace fedprobe
