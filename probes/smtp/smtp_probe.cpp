// The smtp kind's probe (AppProbe with an SmtpDialogue) and its series.
#include "probes/app/app_probe.hpp"
#include "probes/app/number_series.hpp"
#include "probes/smtp/smtp_dialogue.hpp"

namespace fedprobe {

std::unique_ptr<Probe> SmtpKind::make_probe(EventLoop& loop) {
    return std::make_unique<AppProbe>(loop, [](const ProbeRequest& req) {
        return std::make_unique<SmtpDialogue>(req.as<SmtpKind>());
    });
}

std::unique_ptr<KindSeries> SmtpKind::make_series() {
    return std::make_unique<NumberAndFactsSeries<SmtpKind, &SmtpResult::code, 0>>();
}

}  // namespace fedprobe
