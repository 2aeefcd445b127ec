#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "probes/ca_store.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;

namespace {

// A self-signed certificate in PEM, made here so the test needs no files.
std::string self_signed_pem(const char* name) {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME* n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(name),
                               -1, -1, 0);
    X509_set_issuer_name(x, n);
    X509_sign(x, key, EVP_sha256());
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, x);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<std::size_t>(len));
    BIO_free(bio);
    X509_free(x);
    EVP_PKEY_free(key);
    return pem;
}

int certificates_in(X509_STORE* store) {
    STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(store);
    return sk_X509_OBJECT_num(objects);
}

struct TempFile {
    std::string path;
    TempFile() {
        char tmpl[] = "/tmp/fedprobe-ca-XXXXXX";
        int fd = mkstemp(tmpl);
        REQUIRE(fd >= 0);
        close(fd);
        path = tmpl;
    }
    ~TempFile() { std::remove(path.c_str()); }
    void write(const std::string& text) const { std::ofstream(path, std::ios::trunc) << text; }
};

}  // namespace

TEST_CASE("a bundle is loaded once and shared") {
    TempFile f;
    f.write(self_signed_pem("one"));
    CaStores stores;
    std::string error;
    TimePoint t0 = Clock::now();
    X509_STORE* a = stores.get(f.path, t0, error);
    REQUIRE(a);
    CHECK(error.empty());
    CHECK(certificates_in(a) == 1);
    CHECK(stores.get(f.path, t0 + 1s, error) == a);
}

TEST_CASE("a bundle that changes on disk is reloaded at the next check") {
    TempFile f;
    f.write(self_signed_pem("one"));
    CaStores stores;
    std::string error;
    TimePoint t0 = Clock::now();
    REQUIRE(certificates_in(stores.get(f.path, t0, error)) == 1);
    f.write(self_signed_pem("one") + self_signed_pem("two"));         // a CA added to the bundle
    CHECK(certificates_in(stores.get(f.path, t0 + 1s, error)) == 1);  // not looked at yet
    CHECK(certificates_in(stores.get(f.path, t0 + 6s, error)) == 2);
}

TEST_CASE("a missing or broken bundle is an error that names it, and recovers") {
    CaStores stores;
    std::string error;
    TimePoint t0 = Clock::now();
    CHECK_FALSE(stores.get("/nonexistent/ca.pem", t0, error));
    CHECK(error.find("cannot read the CA bundle /nonexistent/ca.pem") != std::string::npos);

    TempFile f;
    f.write("not a certificate\n");
    error.clear();
    CHECK_FALSE(stores.get(f.path, t0, error));
    CHECK(error.find("cannot load the CA bundle " + f.path) != std::string::npos);
    f.write(self_signed_pem("fixed"));
    error.clear();
    CHECK(stores.get(f.path, t0 + 6s, error));
    CHECK(error.empty());
}

TEST_CASE("the system's bundle is the default") {
    CaStores stores;
    std::string error;
    CHECK(stores.get("", Clock::now(), error));
    CHECK(error.empty());
}
