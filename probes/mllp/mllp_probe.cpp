// The mllp kind's probe: AppProbe with an MllpDialogue, a fresh control ID per probe.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

#include "probes/app/app_probe.hpp"
#include "probes/mllp/mllp_dialogue.hpp"
#include "probes/mllp/mllp_kind.hpp"

namespace fedprobe {

namespace {

// YYYYMMDDHHMMSS in UTC, as HL7's DTM wants it (MSH-7).
std::string hl7_now() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
    return buf;
}

}  // namespace

std::unique_ptr<Probe> MllpKind::make_probe(EventLoop& loop) {
    // A random start, so two appliances (or a restart) never reuse each other's control IDs.
    auto counter = std::make_shared<std::uint64_t>(std::random_device{}() |
                                                   (std::uint64_t{std::random_device{}()} << 32));
    return std::make_unique<AppProbe>(loop, [counter](const ProbeRequest& req) {
        const MllpParams& p = req.as<MllpKind>();
        char id[24];
        std::snprintf(id, sizeof id, "FP%014llx",
                      static_cast<unsigned long long>((*counter)++ & 0xffffffffffffffULL));
        return std::make_unique<MllpDialogue>(hl7_with_control_id(p.message, id, hl7_now()), id,
                                              p.accept);
    });
}

}  // namespace fedprobe
