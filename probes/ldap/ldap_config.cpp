// [targets.ldap]: StartTLS or not, and the certificate's checks.
#include "config/toml_reader.hpp"
#include "probes/ldap/ldap_kind.hpp"

namespace fedprobe {

LdapOptions LdapKind::parse(OptionReader& r, const KindUse&) {
    std::vector<std::string_view> keys = {"starttls"};
    keys.insert(keys.end(), std::begin(kTlsKeys), std::end(kTlsKeys));
    r.check_keys(keys);
    LdapOptions o;
    o.starttls = r.boolean("starttls").value_or(false);
    o.tls = read_tls_options(r);
    return o;
}

LdapParams LdapKind::params(const LdapOptions* o, JobContext& c) {
    const LdapOptions opts = o ? *o : LdapOptions{};
    return LdapParams{opts.starttls, tls_settings(opts.tls, c, false)};
}

}  // namespace fedprobe
