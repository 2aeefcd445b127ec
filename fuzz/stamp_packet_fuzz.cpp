// What reaches a STAMP reflector from anyone in an allowed network, and what comes back to
// the stamp probe: the bytes through the reflector's whole decision (unauthenticated and
// authenticated, stateful and stateless) and through the reply parser with the TLV readers
// the probe uses. The first byte picks the mode. A reply must never be longer than its input.
#include <cstdlib>
#include <span>

#include "core/event_loop.hpp"
#include "fuzz/fuzz_target.hpp"
#include "probes/stamp/stamp_packet.hpp"
#include "probes/stamp/stamp_reflector.hpp"

using namespace fedprobe;

namespace {

StampReflector& reflector(int mode) {
    static EventLoop loop;
    static StampReflector* all[4] = {};
    if (!all[mode]) {
        StampReflectorSettings s;
        s.allow = {*Prefix::parse("10.0.0.0/8")};
        s.stateful = (mode & 1) == 0;
        if (mode & 2) s.key = StampKey{'f', 'u', 'z', 'z'};
        s.rate_limit = 1e9;
        s.max_sessions = 64;
        all[mode] = new StampReflector(loop, s);
    }
    return *all[mode];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const int mode = data[0] & 3;
    const std::span<const std::uint8_t> bytes(data + 1, size - 1);
    StampArrival in{bytes,
                    *IpAddress::parse("10.1.2.3"),
                    static_cast<std::uint16_t>(40000 + (size & 7)),
                    *IpAddress::parse("10.9.9.9"),
                    862,
                    data[0],
                    64,
                    1'700'000'000'000'000'000};
    if (auto reply = reflector(mode).reflect(in, Clock::now())) {
        if (reply->bytes.size() > bytes.size()) std::abort();  // amplification
    }
    const StampKey key = {'f', 'u', 'z', 'z'};
    StampReflectorPacket p;
    if (decode(bytes, (mode & 2) ? &key : nullptr, p) == StampParse::ok) {
        for (const StampTlv& t : p.tlvs) {
            (void)read_cos_tlv(t);
            (void)read_location_tlv(t);
        }
        (void)stamp_timestamp_ns(p.timestamp, (mode & 1) != 0);
        (void)ErrorEstimate::unpack(p.error_estimate).seconds();
    }
    StampSenderPacket s;
    (void)decode(bytes, (mode & 2) ? &key : nullptr, s);
    return 0;
}
