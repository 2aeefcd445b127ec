// The ldap kind's probe (AppProbe with an LdapDialogue) and its series.
#include "probes/app/app_probe.hpp"
#include "probes/app/number_series.hpp"
#include "probes/ldap/ldap_dialogue.hpp"

namespace fedprobe {

std::unique_ptr<Probe> LdapKind::make_probe(EventLoop& loop) {
    return std::make_unique<AppProbe>(loop, [](const ProbeRequest& req) {
        return std::make_unique<LdapDialogue>(req.as<LdapKind>());
    });
}

std::unique_ptr<KindSeries> LdapKind::make_series() {
    return std::make_unique<NumberAndFactsSeries<LdapKind, &LdapResult::result_code, -1>>();
}

}  // namespace fedprobe
