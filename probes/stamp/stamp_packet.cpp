#include "probes/stamp/stamp_packet.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/timex.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

#include "core/bytes.hpp"

namespace fedprobe {

namespace {

constexpr std::int64_t kNtpToUnix = 2'208'988'800;  // seconds from 1900 to 1970

std::uint64_t be64(const std::uint8_t* p) {
    return std::uint64_t{be32(p)} << 32 | be32(p + 4);
}
void put64(std::uint8_t* p, std::uint64_t v) {
    put32(p, static_cast<std::uint32_t>(v >> 32));
    put32(p + 4, static_cast<std::uint32_t>(v));
}

// Where each field sits in the two base formats.
struct SenderLayout {
    std::size_t size, timestamp, error_estimate, ssid;
};
constexpr SenderLayout kSenderPlain{kStampBase, 4, 12, 14};
constexpr SenderLayout kSenderAuth{kStampAuthBase, 16, 24, 26};

struct ReflectorLayout {
    std::size_t size, timestamp, error_estimate, ssid, receive, sender_seq, sender_timestamp,
        sender_error_estimate, sender_ttl;
};
constexpr ReflectorLayout kReflectorPlain{kStampBase, 4, 12, 14, 16, 24, 28, 36, 40};
constexpr ReflectorLayout kReflectorAuth{kStampAuthBase, 16, 24, 26, 32, 48, 64, 72, 80};

// The HMAC TLV covers the base packet's sequence number and every TLV before it.
std::array<std::uint8_t, kStampHmacBytes> tlv_hmac(const StampKey& key, const std::uint8_t* seq,
                                                   std::span<const std::uint8_t> tlvs) {
    std::vector<std::uint8_t> data(seq, seq + 4);
    data.insert(data.end(), tlvs.begin(), tlvs.end());
    return stamp_hmac(key, data);
}

void seal(std::vector<std::uint8_t>& out, const std::vector<StampTlv>& tlvs, const StampKey* key) {
    if (!key) {
        append_tlvs(tlvs, out);
        return;
    }
    const auto mac = stamp_hmac(*key, std::span(out.data(), kStampHmacAt));
    std::memcpy(out.data() + kStampHmacAt, mac.data(), mac.size());
    if (tlvs.empty()) return;
    std::vector<StampTlv> without;
    for (const auto& t : tlvs)
        if (t.type != static_cast<std::uint8_t>(StampTlvType::hmac)) without.push_back(t);
    append_tlvs(without, out);
    const auto tmac = tlv_hmac(*key, out.data(),
                               std::span(out.data() + kStampAuthBase, out.size() - kStampAuthBase));
    append_tlvs({StampTlv{0, static_cast<std::uint8_t>(StampTlvType::hmac),
                          std::vector<std::uint8_t>(tmac.begin(), tmac.end())}},
                out);
}

// Verifies the base HMAC and, when TLVs follow, that the last is an HMAC TLV over the rest.
StampParse open(std::span<const std::uint8_t> bytes, const StampKey* key, std::size_t base,
                std::vector<StampTlv>& tlvs) {
    if (bytes.size() < base) return StampParse::too_short;
    const auto rest = bytes.subspan(base);
    if (!parse_tlvs(rest, tlvs)) return StampParse::bad_tlv;
    if (!key) return StampParse::ok;
    const auto mac = stamp_hmac(*key, bytes.first(kStampHmacAt));
    if (CRYPTO_memcmp(mac.data(), bytes.data() + kStampHmacAt, mac.size()) != 0)
        return StampParse::auth_failed;
    if (tlvs.empty()) return StampParse::ok;
    const StampTlv& last = tlvs.back();
    if (last.type != static_cast<std::uint8_t>(StampTlvType::hmac) ||
        last.value.size() != kStampHmacBytes)
        return StampParse::auth_failed;
    const std::size_t covered = rest.size() - 4 - kStampHmacBytes;
    const auto tmac = tlv_hmac(*key, bytes.data(), rest.first(covered));
    if (CRYPTO_memcmp(tmac.data(), last.value.data(), tmac.size()) != 0)
        return StampParse::auth_failed;
    tlvs.pop_back();
    return StampParse::ok;
}

}  // namespace

std::uint64_t stamp_timestamp(std::int64_t unix_ns, bool ptp) {
    const std::int64_t s = unix_ns / 1'000'000'000;
    const std::int64_t ns = unix_ns % 1'000'000'000;
    if (ptp)
        return std::uint64_t(static_cast<std::uint32_t>(s)) << 32 | static_cast<std::uint32_t>(ns);
    const auto frac =
        static_cast<std::uint32_t>((static_cast<unsigned __int128>(ns) << 32) / 1'000'000'000);
    return std::uint64_t(static_cast<std::uint32_t>(s + kNtpToUnix)) << 32 | frac;
}

std::int64_t stamp_timestamp_ns(std::uint64_t wire, bool ptp) {
    const std::uint32_t hi = static_cast<std::uint32_t>(wire >> 32);
    const std::uint32_t lo = static_cast<std::uint32_t>(wire);
    if (ptp) return std::int64_t{hi} * 1'000'000'000 + std::min<std::uint32_t>(lo, 999'999'999);
    // NTP era 0 ends in 2036: seconds below the Unix epoch belong to era 1.
    std::int64_t s = std::int64_t{hi} - kNtpToUnix;
    if (s < 0) s += std::int64_t{1} << 32;
    const auto ns = static_cast<std::int64_t>(
        (static_cast<unsigned __int128>(lo) * 1'000'000'000 + (std::uint64_t{1} << 31)) >> 32);
    return s * 1'000'000'000 + ns;
}

std::uint16_t ErrorEstimate::pack() const {
    return static_cast<std::uint16_t>((synchronised ? 0x8000 : 0) | (ptp ? 0x4000 : 0) |
                                      (scale & 0x3f) << 8 | multiplier);
}

ErrorEstimate ErrorEstimate::unpack(std::uint16_t v) {
    return ErrorEstimate{(v & 0x8000) != 0, (v & 0x4000) != 0,
                         static_cast<std::uint8_t>((v >> 8) & 0x3f),
                         static_cast<std::uint8_t>(v & 0xff)};
}

double ErrorEstimate::seconds() const {
    return std::ldexp(static_cast<double>(multiplier), static_cast<int>(scale) - 32);
}

ErrorEstimate ErrorEstimate::at_least(double seconds, bool synchronised, bool ptp) {
    ErrorEstimate e{synchronised, ptp, 0, 1};
    double units = std::max(1.0, std::ceil(std::ldexp(seconds, 32)));
    while (units > 255 && e.scale < 63) {
        units = std::ceil(units / 2);
        ++e.scale;
    }
    e.multiplier = static_cast<std::uint8_t>(std::min(255.0, units));
    return e;
}

ErrorEstimate local_error_estimate(bool ptp) {
    // Every test packet and every reflected one asks: the kernel is asked at most once a
    // second (the clock's state changes far more slowly), per thread.
    thread_local std::int64_t asked_s = -1;
    thread_local ErrorEstimate known;
    timespec now;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    if (now.tv_sec != asked_s) {
        asked_s = now.tv_sec;
        timex tx{};
        const int state = adjtimex(&tx);
        const bool synced = state != -1 && state != TIME_ERROR && !(tx.status & STA_UNSYNC);
        // maxerror is in microseconds; an unsynchronised clock claims a second.
        const double err = synced ? static_cast<double>(tx.maxerror) * 1e-6 : 1.0;
        known = ErrorEstimate::at_least(err, synced, false);
    }
    ErrorEstimate e = known;
    e.ptp = ptp;
    return e;
}

Result<StampKey> read_stamp_key(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::from_errno("cannot read " + path, errno);
    StampKey key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return Status::from_errno("cannot read " + path, errno);
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r'))
        key.pop_back();
    if (key.empty()) return Status::error(path + " is empty: a key needs at least one byte");
    if (key.size() > 4096)
        return Status::error(path + " holds " + std::to_string(key.size()) +
                             " bytes; a key is at most 4096");
    return key;
}

// ---- TLVs -----------------------------------------------------------------------------------

StampTlv make_cos_tlv(const StampCos& c) {
    StampTlv t{0, static_cast<std::uint8_t>(StampTlvType::class_of_service),
               std::vector<std::uint8_t>(4, 0)};
    // DSCP1 (6 bits) DSCP2 (6) ECN (2) RP (2), then 16 reserved bits.
    const std::uint16_t v = static_cast<std::uint16_t>(
        (c.dscp1 & 0x3f) << 10 | (c.dscp2 & 0x3f) << 4 | (c.ecn & 3) << 2 | (c.rp & 3));
    put16(t.value.data(), v);
    return t;
}

std::optional<StampCos> read_cos_tlv(const StampTlv& t) {
    if (t.type != static_cast<std::uint8_t>(StampTlvType::class_of_service) || t.value.size() < 4)
        return std::nullopt;
    const std::uint16_t v = be16(t.value.data());
    return StampCos{static_cast<std::uint8_t>(v >> 10), static_cast<std::uint8_t>((v >> 4) & 0x3f),
                    static_cast<std::uint8_t>((v >> 2) & 3), static_cast<std::uint8_t>(v & 3)};
}

namespace {

void put_sub(std::vector<std::uint8_t>& v, StampLocationSub type, std::size_t len) {
    v.push_back(0);
    v.push_back(static_cast<std::uint8_t>(type));
    v.push_back(0);
    v.push_back(static_cast<std::uint8_t>(len));
    v.insert(v.end(), len, 0);
}

}  // namespace

StampTlv make_location_request(int family) {
    StampTlv t{0, static_cast<std::uint8_t>(StampTlvType::location),
               std::vector<std::uint8_t>(4, 0)};
    const bool v6 = family == AF_INET6;
    put_sub(t.value, v6 ? StampLocationSub::source_ipv6 : StampLocationSub::source_ipv4,
            v6 ? 16 : 4);
    put_sub(t.value, v6 ? StampLocationSub::destination_ipv6 : StampLocationSub::destination_ipv4,
            v6 ? 16 : 4);
    return t;
}

bool fill_location_tlv(StampTlv& t, const StampLocation& seen) {
    if (t.type != static_cast<std::uint8_t>(StampTlvType::location) || t.value.size() < 4)
        return false;
    put16(t.value.data(), seen.destination_port);
    put16(t.value.data() + 2, seen.source_port);
    std::size_t at = 4;
    while (at + 4 <= t.value.size()) {
        std::uint8_t* sub = t.value.data() + at;
        const std::size_t len = be16(sub + 2);
        if (at + 4 + len > t.value.size()) return false;
        const auto type = static_cast<StampLocationSub>(sub[1]);
        const std::optional<IpAddress>* which = nullptr;
        std::size_t want = 0;
        switch (type) {
            case StampLocationSub::source_ipv4:
                which = &seen.source, want = 4;
                break;
            case StampLocationSub::destination_ipv4:
                which = &seen.destination, want = 4;
                break;
            case StampLocationSub::source_ipv6:
                which = &seen.source, want = 16;
                break;
            case StampLocationSub::destination_ipv6:
                which = &seen.destination, want = 16;
                break;
        }
        if (!which || len != want) {
            sub[0] |= kTlvUnrecognised;
        } else if (*which && static_cast<std::size_t>((*which)->bits() / 8) == want) {
            std::memcpy(sub + 4, (*which)->bytes.data(), want);
        } else {
            sub[0] |= kTlvMalformed;  // the other family: nothing to say in this sub-TLV
        }
        at += 4 + len;
    }
    return at == t.value.size();
}

std::optional<StampLocation> read_location_tlv(const StampTlv& t) {
    if (t.type != static_cast<std::uint8_t>(StampTlvType::location) || t.value.size() < 4)
        return std::nullopt;
    StampLocation l;
    l.destination_port = be16(t.value.data());
    l.source_port = be16(t.value.data() + 2);
    std::size_t at = 4;
    while (at + 4 <= t.value.size()) {
        const std::uint8_t* sub = t.value.data() + at;
        const std::size_t len = be16(sub + 2);
        if (at + 4 + len > t.value.size()) return std::nullopt;
        if ((sub[0] & (kTlvUnrecognised | kTlvMalformed)) == 0) {
            IpAddress a;
            const auto type = static_cast<StampLocationSub>(sub[1]);
            const bool v4 =
                type == StampLocationSub::source_ipv4 || type == StampLocationSub::destination_ipv4;
            const bool v6 =
                type == StampLocationSub::source_ipv6 || type == StampLocationSub::destination_ipv6;
            if ((v4 && len == 4) || (v6 && len == 16)) {
                a.family = v4 ? AF_INET : AF_INET6;
                std::memcpy(a.bytes.data(), sub + 4, len);
                const bool source =
                    type == StampLocationSub::source_ipv4 || type == StampLocationSub::source_ipv6;
                (source ? l.source : l.destination) = a;
            }
        }
        at += 4 + len;
    }
    return l;
}

StampTlv make_padding_tlv(std::size_t bytes) {
    return StampTlv{0, static_cast<std::uint8_t>(StampTlvType::extra_padding),
                    std::vector<std::uint8_t>(bytes, 0)};
}

void append_tlvs(const std::vector<StampTlv>& tlvs, std::vector<std::uint8_t>& out) {
    for (const auto& t : tlvs) {
        const std::size_t at = out.size();
        out.resize(at + 4);
        out[at] = t.flags;
        out[at + 1] = t.type;
        put16(out.data() + at + 2, static_cast<std::uint16_t>(t.value.size()));
        out.insert(out.end(), t.value.begin(), t.value.end());
    }
}

bool parse_tlvs(std::span<const std::uint8_t> bytes, std::vector<StampTlv>& out) {
    out.clear();
    std::size_t at = 0;
    while (at < bytes.size()) {
        if (bytes.size() - at < 4) return false;
        const std::size_t len = be16(bytes.data() + at + 2);
        if (bytes.size() - at - 4 < len) return false;
        out.push_back(
            StampTlv{bytes[at], bytes[at + 1],
                     std::vector<std::uint8_t>(bytes.begin() + static_cast<long>(at) + 4,
                                               bytes.begin() + static_cast<long>(at + 4 + len))});
        at += 4 + len;
    }
    return true;
}

std::array<std::uint8_t, kStampHmacBytes> stamp_hmac(const StampKey& key,
                                                     std::span<const std::uint8_t> data) {
    unsigned char full[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), full,
         &n);
    std::array<std::uint8_t, kStampHmacBytes> out{};
    std::memcpy(out.data(), full, out.size());
    return out;
}

// ---- packets --------------------------------------------------------------------------------

namespace {

// The four fields both directions open with, each at its layout's place.
template <typename Layout, typename Packet>
std::vector<std::uint8_t> open_packet(const Layout& l, const Packet& p) {
    std::vector<std::uint8_t> out(l.size, 0);
    put32(out.data(), p.seq);
    put64(out.data() + l.timestamp, p.timestamp);
    put16(out.data() + l.error_estimate, p.error_estimate);
    put16(out.data() + l.ssid, p.ssid);
    return out;
}

template <typename Layout, typename Packet>
void read_common(const Layout& l, const std::uint8_t* b, Packet& out) {
    out.seq = be32(b);
    out.timestamp = be64(b + l.timestamp);
    out.error_estimate = be16(b + l.error_estimate);
    out.ssid = be16(b + l.ssid);
}

}  // namespace

std::vector<std::uint8_t> encode(const StampSenderPacket& p, const StampKey* key) {
    std::vector<std::uint8_t> out = open_packet(key ? kSenderAuth : kSenderPlain, p);
    seal(out, p.tlvs, key);
    return out;
}

std::vector<std::uint8_t> encode(const StampReflectorPacket& p, const StampKey* key) {
    const ReflectorLayout& l = key ? kReflectorAuth : kReflectorPlain;
    std::vector<std::uint8_t> out = open_packet(l, p);
    put64(out.data() + l.receive, p.receive_timestamp);
    put32(out.data() + l.sender_seq, p.sender_seq);
    put64(out.data() + l.sender_timestamp, p.sender_timestamp);
    put16(out.data() + l.sender_error_estimate, p.sender_error_estimate);
    out[l.sender_ttl] = p.sender_ttl;
    seal(out, p.tlvs, key);
    return out;
}

StampParse decode(std::span<const std::uint8_t> bytes, const StampKey* key,
                  StampSenderPacket& out) {
    const SenderLayout& l = key ? kSenderAuth : kSenderPlain;
    if (StampParse r = open(bytes, key, l.size, out.tlvs); r != StampParse::ok) return r;
    read_common(l, bytes.data(), out);
    return StampParse::ok;
}

StampParse decode(std::span<const std::uint8_t> bytes, const StampKey* key,
                  StampReflectorPacket& out) {
    const ReflectorLayout& l = key ? kReflectorAuth : kReflectorPlain;
    if (StampParse r = open(bytes, key, l.size, out.tlvs); r != StampParse::ok) return r;
    const std::uint8_t* b = bytes.data();
    read_common(l, b, out);
    out.receive_timestamp = be64(b + l.receive);
    out.sender_seq = be32(b + l.sender_seq);
    out.sender_timestamp = be64(b + l.sender_timestamp);
    out.sender_error_estimate = be16(b + l.sender_error_estimate);
    out.sender_ttl = b[l.sender_ttl];
    return StampParse::ok;
}

std::string_view to_string(StampParse p) {
    switch (p) {
        case StampParse::ok:
            return "ok";
        case StampParse::too_short:
            return "shorter than a STAMP test packet";
        case StampParse::bad_tlv:
            return "a TLV runs past the end of the packet";
        case StampParse::auth_failed:
            return "the HMAC does not verify";
    }
    return "?";
}

}  // namespace fedprobe
