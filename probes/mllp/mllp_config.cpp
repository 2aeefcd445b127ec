// [targets.mllp]: the message to send and the acknowledgement codes that count as ok.
#include <algorithm>

#include "config/toml_reader.hpp"
#include "probes/mllp/mllp_dialogue.hpp"
#include "probes/mllp/mllp_kind.hpp"

namespace fedprobe {

MllpOptions MllpKind::parse(OptionReader& r, const KindUse&) {
    r.check_keys({"message", "accept"});
    MllpOptions o;
    if (auto m = r.string("message")) {
        if (m->size() < 8 || m->compare(0, 3, "MSH") != 0)
            r.error("message",
                    "mllp.message must be an HL7 v2 message beginning with its MSH "
                    "segment (\"MSH|^~\\\\&|...\")");
        else
            o.message = *m;
    }
    for (auto& [code, node] : r.strings("accept")) {
        if (mllp_ack_label(code) == "other") {
            r.error_at(*node, "mllp.accept: " + code +
                                  " is not an acknowledgement code (AA, AE, AR, CA, CE, CR)");
            continue;
        }
        o.accept.push_back(code);
    }
    return o;
}

MllpParams MllpKind::params(const MllpOptions* o, JobContext& c) {
    MllpParams p;
    p.message = o && !o->message.empty() ? o->message : default_hl7_message(c.site);
    p.accept = o && !o->accept.empty() ? o->accept : std::vector<std::string>{"AA", "CA"};
    return p;
}

}  // namespace fedprobe
