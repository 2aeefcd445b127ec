// [targets.tls]: the name the certificate must carry, the CA bundle, whether to fail on it.
#include "config/toml_reader.hpp"
#include "probes/tls/tls_kind.hpp"

namespace fedprobe {

TlsKindOptions TlsKind::parse(OptionReader& r, const KindUse&) {
    r.check_keys({std::begin(kTlsKeys), std::end(kTlsKeys)});
    return read_tls_options(r);
}

TlsParams TlsKind::params(const TlsKindOptions* o, JobContext& c) {
    return TlsParams{tls_settings(o ? *o : TlsKindOptions{}, c, true)};
}

}  // namespace fedprobe
