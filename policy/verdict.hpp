// Whether a flow's outcome complies with what the policy expects of it.
#pragma once

#include <string_view>

#include "federation/config.hpp"
#include "probes/outcome.hpp"

namespace fedprobe {

enum class Verdict {
    compliant,     // allow: it connected; deny: a firewall stopped it (filtered or prohibited)
    violation,     // deny, and it connected: the most important alert of all
    blocked,       // allow, and something stopped it (filtered, prohibited, unreachable)
    service_down,  // allow, the path is open but nothing listens (refused): not a firewall failure
    open_path,     // deny, and the target itself answered refused: no firewall stopped it
    not_verified,  // deny, but unroutable or a local error: whether a firewall would stop it is
                   // unknown
    error,         // allow, and a local error kept the probe from running
};

Verdict judge(Expectation expect, Outcome outcome);
inline bool is_compliant(Verdict v) {
    return v == Verdict::compliant;
}
std::string_view to_string(Verdict v);
std::string_view to_string(Expectation e);

}  // namespace fedprobe
