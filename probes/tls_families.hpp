// The certificate series every kind that speaks TLS writes (http, tls, smtp with STARTTLS): one
// family each, with the jobs of all of them (the exporter joins families by name).
// Declarations only: any thread.
#pragma once

#include "probes/series.hpp"

namespace fedprobe {

inline constexpr FamilyInfo kTlsVersionFamily{
    "fedprobe_tls_version_info", "TLS version of the last handshake", SeriesType::gauge};
inline constexpr FamilyInfo kTlsCertVerifiedFamily{
    "fedprobe_tls_cert_verified",
    "1 when the last certificate verified against the CA bundle and the name asked for (the "
    "URL's host, server_name), 0 when not",
    SeriesType::gauge};
inline constexpr FamilyInfo kTlsCertNotAfterFamily{
    "fedprobe_tls_cert_not_after_timestamp_seconds",
    "When the server's certificate expires: cert=leaf, or cert=earliest for the earliest in the "
    "chain it presented",
    SeriesType::gauge};

}  // namespace fedprobe
