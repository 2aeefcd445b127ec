// Certificate facts an https probe exports: when the leaf and the earliest certificate of the
// presented chain expire, read with OpenSSL from the live connection (libcurl's OpenSSL build).
#pragma once

#include <openssl/asn1.h>
#include <openssl/x509.h>

#include <optional>

namespace fedprobe {

// An ASN.1 UTCTime or GeneralizedTime as unix seconds; nullopt when it is not a valid time.
std::optional<double> asn1_time_to_unix(const ASN1_TIME* t);

struct CertificateDates {
    std::optional<double> leaf_not_after;
    std::optional<double> earliest_not_after;  // over every certificate the server presented
};
// `chain` as SSL_get_peer_cert_chain gives it on a client: the leaf first.
CertificateDates certificate_dates(const STACK_OF(X509) * chain);

}  // namespace fedprobe
