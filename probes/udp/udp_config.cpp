// [targets.udp]
#include "config/toml_reader.hpp"
#include "probes/udp/udp_kind.hpp"

namespace fedprobe {

UdpOptions UdpKind::parse(OptionReader& r, const KindUse&) {
    r.check_keys({"payload", "expect"});
    UdpOptions u;
    u.payload = r.string("payload").value_or("");
    u.expect = r.regex("expect").value_or("");
    return u;
}

UdpParams UdpKind::params(const UdpOptions* o, JobContext& c) {
    UdpParams p = o ? *o : UdpOptions{};
    if (p.payload.empty()) p.payload = "fedprobe probe from " + c.site;
    // A flow asks whether the path is open: any reply will do, whatever the target's
    // udp.expect says about the answer its own service gives.
    if (c.for_flow) p.expect.clear();
    return p;
}

}  // namespace fedprobe
