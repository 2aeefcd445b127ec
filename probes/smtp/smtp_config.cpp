// [targets.smtp]: STARTTLS or not, the EHLO name, and the certificate's checks.
#include <algorithm>

#include "config/toml_reader.hpp"
#include "probes/smtp/smtp_kind.hpp"

namespace fedprobe {

SmtpOptions SmtpKind::parse(OptionReader& r, const KindUse&) {
    std::vector<std::string_view> keys = {"starttls", "helo"};
    keys.insert(keys.end(), std::begin(kTlsKeys), std::end(kTlsKeys));
    r.check_keys(keys);
    SmtpOptions o;
    o.starttls = r.boolean("starttls").value_or(false);
    if (auto helo = r.string("helo")) {
        if (helo->empty() || helo->find_first_of(" \t\r\n") != std::string::npos)
            r.error("helo", "smtp.helo must be a host name (or an address literal) without spaces");
        else
            o.helo = *helo;
    }
    o.tls = read_tls_options(r);
    return o;
}

SmtpParams SmtpKind::params(const SmtpOptions* o, JobContext& c) {
    const SmtpOptions opts = o ? *o : SmtpOptions{};
    SmtpParams p;
    p.starttls = opts.starttls;
    p.helo = opts.helo.empty() ? c.site + ".fedprobe.invalid" : opts.helo;
    p.tls = tls_settings(opts.tls, c, false);
    return p;
}

}  // namespace fedprobe
