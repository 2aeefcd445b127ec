#include "probes/tls_certificates.hpp"

#include <ctime>

namespace fedprobe {

std::optional<double> asn1_time_to_unix(const ASN1_TIME* t) {
    std::tm tm{};
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
    return static_cast<double>(timegm(&tm));
}

CertificateDates certificate_dates(const STACK_OF(X509) * chain) {
    CertificateDates d;
    if (!chain) return d;
    for (int i = 0; i < sk_X509_num(chain); ++i) {
        auto when = asn1_time_to_unix(X509_get0_notAfter(sk_X509_value(chain, i)));
        if (!when) continue;
        if (i == 0) d.leaf_not_after = when;
        if (!d.earliest_not_after || *when < *d.earliest_not_after) d.earliest_not_after = when;
    }
    return d;
}

}  // namespace fedprobe
