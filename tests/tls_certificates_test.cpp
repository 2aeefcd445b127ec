#include <doctest/doctest.h>
#include <openssl/evp.h>

#include "probes/tls_certificates.hpp"

using namespace fedprobe;

namespace {

std::optional<double> parse(const char* text) {
    ASN1_TIME* t = ASN1_TIME_new();
    std::optional<double> out;
    if (ASN1_TIME_set_string(t, text) == 1) out = asn1_time_to_unix(t);
    ASN1_TIME_free(t);
    return out;
}

// A certificate that expires `days` from now (only the dates matter here).
X509* cert_expiring_in(long days) {
    X509* x = X509_new();
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), days * 86400);
    return x;
}

}  // namespace

TEST_CASE("UTCTime and GeneralizedTime, as certificates carry them") {
    CHECK(parse("700101000000Z") == 0.0);
    CHECK(parse("261122120000Z") == 1795348800.0);  // 2026-11-22 12:00 UTC
    // RFC 5280: UTCTime years 50..99 are 19xx, 00..49 are 20xx.
    CHECK(parse("491231235959Z") == 2524607999.0);
    CHECK(parse("500101000000Z") == -631152000.0);
    CHECK(parse("20500101000000Z") == 2524608000.0);
    CHECK(parse("20270228235959Z") == 1803859199.0);
}

TEST_CASE("what is not a time gives nothing") {
    CHECK_FALSE(parse("not a time"));
    CHECK_FALSE(parse("20261301000000Z"));  // month 13
    CHECK_FALSE(asn1_time_to_unix(nullptr));
}

TEST_CASE("the leaf's expiry and the earliest in the chain") {
    STACK_OF(X509)* chain = sk_X509_new_null();
    X509* leaf = cert_expiring_in(90);
    X509* intermediate = cert_expiring_in(30);  // expires first: the one to alert on
    X509* root = cert_expiring_in(3650);
    sk_X509_push(chain, leaf);
    sk_X509_push(chain, intermediate);
    sk_X509_push(chain, root);
    auto d = certificate_dates(chain);
    REQUIRE(d.leaf_not_after);
    REQUIRE(d.earliest_not_after);
    double now = static_cast<double>(time(nullptr));
    CHECK(*d.leaf_not_after == doctest::Approx(now + 90 * 86400).epsilon(1e-6));
    CHECK(*d.earliest_not_after == doctest::Approx(now + 30 * 86400).epsilon(1e-6));
    sk_X509_pop_free(chain, X509_free);

    CHECK_FALSE(certificate_dates(nullptr).leaf_not_after);
}
