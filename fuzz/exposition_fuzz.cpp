// What `fedprobe blame` reads from every appliance it asks: a scrape's text, through the
// exposition reader, the evidence it makes, and the verdicts judged from it. A scrape comes
// from another organisation's appliance: no input may crash it or make it loop.
#include <string_view>

#include "fuzz/fuzz_target.hpp"
#include "policy/blame.hpp"
#include "policy/blame_evidence.hpp"
#include "policy/exposition.hpp"

using namespace fedprobe;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto samples = read_exposition(text, "", "fuzz");
    if (!samples.ok()) return 0;
    std::vector<ApplianceEvidence> appliances;
    add_evidence(*samples, appliances);
    BlameSettings settings;
    settings.stale_after = 60;
    // Any answer, so the rules that name a silent router's network run too.
    settings.link_network = [](const std::string& address) -> std::string {
        return address.size() % 2 ? "link-owner" : "unknown";
    };
    (void)blame(appliances, 1000, settings);
    return 0;
}
