// STAMP test packets (RFC 8762) with the RFC 8972 extensions: the Session-Sender Identifier and
// the TLVs fedprobe uses (Extra Padding, Location, Class of Service, HMAC). Building and parsing
// both directions, unauthenticated (44-byte base) and authenticated (112-byte base, HMAC-SHA-256
// truncated to 16 bytes over the first 96), plus the timestamp and Error Estimate formats. Pure
// functions over bytes, shared by the stamp probe (stamp_probe.hpp) and the reflector
// (stamp_reflector.hpp); any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/address.hpp"
#include "core/status.hpp"

namespace fedprobe {

inline constexpr std::uint16_t kStampPort = 862;
inline constexpr std::size_t kStampBase = 44;       // unauthenticated base packet
inline constexpr std::size_t kStampAuthBase = 112;  // authenticated base packet
inline constexpr std::size_t kStampHmacAt = 96;     // the HMAC field; it covers what precedes it
inline constexpr std::size_t kStampHmacBytes = 16;

// The shared secret of authenticated mode: a file's bytes, trailing newline removed.
using StampKey = std::vector<std::uint8_t>;
// Reads a key file: its bytes without trailing CR/LF; an error if it cannot be read, is empty,
// or is larger than a key has any use for (4 KiB).
Result<StampKey> read_stamp_key(const std::string& path);

// ---- timestamps ---------------------------------------------------------------------------
// 64-bit NTP (seconds since 1900 and a binary fraction) or PTPv2 truncated (seconds since 1970
// and nanoseconds); the Error Estimate's Z bit says which.
std::uint64_t stamp_timestamp(std::int64_t unix_ns, bool ptp);
std::int64_t stamp_timestamp_ns(std::uint64_t wire, bool ptp);

// RFC 4656's Error Estimate: S (synchronised to UTC), Z (PTP format), scale and multiplier
// (error = multiplier * 2^(scale - 32) s).
struct ErrorEstimate {
    bool synchronised = false;
    bool ptp = false;
    std::uint8_t scale = 0;       // 6 bits
    std::uint8_t multiplier = 1;  // never 0
    std::uint16_t pack() const;
    static ErrorEstimate unpack(std::uint16_t v);
    double seconds() const;
    // The smallest estimate at least `seconds` wide.
    static ErrorEstimate at_least(double seconds, bool synchronised, bool ptp);
};

// This host's clock as the kernel sees it (adjtimex): synchronised, and its maximum error.
ErrorEstimate local_error_estimate(bool ptp);

// ---- TLVs -----------------------------------------------------------------------------------
enum class StampTlvType : std::uint8_t {
    extra_padding = 1,
    location = 2,
    timestamp_information = 3,
    class_of_service = 4,
    hmac = 8,
};
// The TLV Flags octet: U (the reflector did not understand the type), M (malformed), I (the
// integrity check failed).
inline constexpr std::uint8_t kTlvUnrecognised = 0x80;
inline constexpr std::uint8_t kTlvMalformed = 0x40;
inline constexpr std::uint8_t kTlvIntegrity = 0x20;

// Location sub-TLVs carry the addresses the reflector saw. Sub-TLVs use the TLV header (flags,
// type, 16-bit length); the type numbers are stamp-suite's (an assumption; see doc/metrics.md).
enum class StampLocationSub : std::uint8_t {
    source_ipv4 = 1,
    destination_ipv4 = 2,
    source_ipv6 = 3,
    destination_ipv6 = 4,
};

struct StampTlv {
    std::uint8_t flags = 0;
    std::uint8_t type = 0;
    std::vector<std::uint8_t> value;
    friend bool operator==(const StampTlv&, const StampTlv&) = default;
};

// Class of Service (type 4, 4 bytes): DSCP1 the sender asks the reply to carry, DSCP2 and ECN
// as the reflector received them, RP set by the reflector when it could not use DSCP1.
struct StampCos {
    std::uint8_t dscp1 = 0;
    std::uint8_t dscp2 = 0;
    std::uint8_t ecn = 0;
    std::uint8_t rp = 0;
};
StampTlv make_cos_tlv(const StampCos& c);
std::optional<StampCos> read_cos_tlv(const StampTlv& t);

// Location (type 2): destination and source ports and addresses as the reflector saw them.
struct StampLocation {
    std::uint16_t destination_port = 0;
    std::uint16_t source_port = 0;
    std::optional<IpAddress> source;
    std::optional<IpAddress> destination;
};
// A sender's Location TLV: zero ports and zero addresses of `family`, for the reflector to fill.
StampTlv make_location_request(int family);
// Fills a Location TLV in place (its length unchanged); false if it is malformed or has no room.
bool fill_location_tlv(StampTlv& t, const StampLocation& seen);
std::optional<StampLocation> read_location_tlv(const StampTlv& t);

StampTlv make_padding_tlv(std::size_t bytes);

// ---- packets ------------------------------------------------------------------------------
struct StampSenderPacket {
    std::uint32_t seq = 0;
    std::uint64_t timestamp = 0;
    std::uint16_t error_estimate = 0;
    std::uint16_t ssid = 0;
    std::vector<StampTlv> tlvs;
};

struct StampReflectorPacket {
    std::uint32_t seq = 0;
    std::uint64_t timestamp = 0;  // T3: when the reflector sent it
    std::uint16_t error_estimate = 0;
    std::uint16_t ssid = 0;
    std::uint64_t receive_timestamp = 0;  // T2: when the reflector received the test packet
    std::uint32_t sender_seq = 0;
    std::uint64_t sender_timestamp = 0;  // T1, echoed
    std::uint16_t sender_error_estimate = 0;
    std::uint8_t sender_ttl = 0;
    std::vector<StampTlv> tlvs;
};

enum class StampParse : std::uint8_t {
    ok,
    too_short,    // shorter than its base packet
    bad_tlv,      // a TLV's length runs past the end
    auth_failed,  // the HMAC (of the base or of the TLVs) does not verify
};
std::string_view to_string(StampParse p);

// With key (non-null) the packet is authenticated: 112-byte base, HMAC over octets 0-95, and,
// when there are TLVs, an HMAC TLV appended over the sequence number and the TLVs before it.
std::vector<std::uint8_t> encode(const StampSenderPacket& p, const StampKey* key);
std::vector<std::uint8_t> encode(const StampReflectorPacket& p, const StampKey* key);
StampParse decode(std::span<const std::uint8_t> bytes, const StampKey* key, StampSenderPacket& out);
StampParse decode(std::span<const std::uint8_t> bytes, const StampKey* key,
                  StampReflectorPacket& out);

// The TLVs' wire bytes, and their parse (false if a length runs past the end).
void append_tlvs(const std::vector<StampTlv>& tlvs, std::vector<std::uint8_t>& out);
bool parse_tlvs(std::span<const std::uint8_t> bytes, std::vector<StampTlv>& out);

// HMAC-SHA-256 truncated to 16 bytes.
std::array<std::uint8_t, kStampHmacBytes> stamp_hmac(const StampKey& key,
                                                     std::span<const std::uint8_t> data);

}  // namespace fedprobe
