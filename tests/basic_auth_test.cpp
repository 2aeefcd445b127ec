#include "exporters/basic_auth.hpp"

#include <crypt.h>
#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace fedprobe;

namespace {
std::string bcrypt(const std::string& password, unsigned long cost = 4) {  // 4: fast tests
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    REQUIRE(crypt_gensalt_rn("$2b$", cost, nullptr, 0, salt, sizeof salt) != nullptr);
    crypt_data data{};
    const char* hash = crypt_rn(password.c_str(), salt, &data, sizeof data);
    REQUIRE(hash != nullptr);
    return hash;
}
}  // namespace

TEST_CASE("bcrypt hashes verify the right password only") {
    auto hash = bcrypt("s3cret");
    CHECK(hash.starts_with("$2b$04$"));
    CHECK(verify_crypt_hash("s3cret", hash));
    CHECK_FALSE(verify_crypt_hash("s3cre", hash));
    CHECK_FALSE(verify_crypt_hash("s3cret", "$2b$04$notavalidhash"));
}

TEST_CASE("unknown users and wrong passwords are refused and counted") {
    int failures = 0;
    BasicAuth auth({{"prometheus", bcrypt("pw")}}, [&] { ++failures; });
    CHECK(auth.check("192.0.2.1", "prometheus", "pw"));
    CHECK_FALSE(auth.check("192.0.2.1", "prometheus", "wrong"));
    CHECK_FALSE(auth.check("192.0.2.1", "grafana", "pw"));
    CHECK(failures == 2);
}

TEST_CASE(
    "an unknown user costs one hash of the costliest configured cost, like a wrong password") {
    std::vector<std::string> hashed_with;
    auto counting = [&](const std::string& pw, const std::string& hash) {
        hashed_with.push_back(hash);
        return verify_crypt_hash(pw, hash);
    };
    const std::string cheap = bcrypt("a", 4), dear = bcrypt("b", 6);
    BasicAuth auth({{"alice", cheap}, {"bob", dear}}, {}, counting);
    CHECK(auth.decoy_hash().starts_with("$2b$06$"));
    CHECK(auth.decoy_hash() != dear);  // a hash of something else, never a user's own

    CHECK_FALSE(auth.check("192.0.2.1", "mallory", "b"));
    REQUIRE(hashed_with.size() == 1);
    CHECK(hashed_with[0] == auth.decoy_hash());
    // The decoy hash never lets anyone in, whatever the password.
    CHECK_FALSE(auth.check("192.0.2.1", "mallory", "fedprobe-decoy"));
    CHECK(hashed_with.size() == 2);

    CHECK_FALSE(auth.check("192.0.2.1", "bob", "wrong"));
    CHECK(hashed_with.size() == 3);
    CHECK(hashed_with[2] == dear);
}

TEST_CASE("a NUL in the password or user is refused, never truncated") {
    BasicAuth auth({{"prometheus", bcrypt("s3cret-pw")}});
    CHECK_FALSE(auth.check("192.0.2.1", "prometheus", std::string("s3cret-pw\0garbage", 17)));
    CHECK_FALSE(auth.check("192.0.2.1", std::string("prometheus\0x", 12), "s3cret-pw"));
    CHECK(auth.check("192.0.2.1", "prometheus", "s3cret-pw"));
}

TEST_CASE("after ten failures that client waits out the window; other clients do not") {
    int failures = 0;
    BasicAuth auth({{"prometheus", bcrypt("pw")}}, [&] { ++failures; });
    for (int i = 0; i < BasicAuth::kMaxFailures; ++i)
        CHECK_FALSE(auth.check("192.0.2.66", "prometheus", "guess"));
    CHECK_FALSE(auth.check("192.0.2.66", "prometheus", "pw"));  // even the right one
    CHECK(failures == BasicAuth::kMaxFailures + 1);
    CHECK(auth.check("192.0.2.10", "prometheus", "pw"));  // Prometheus itself
    CHECK(auth.check("2001:db8::10", "prometheus", "pw"));
}

TEST_CASE("an IPv6 /64 is one client; an IPv4-mapped address is its IPv4 address") {
    CHECK(auth_client_key("192.0.2.7") == "192.0.2.7");
    CHECK(auth_client_key("::ffff:192.0.2.7") == "192.0.2.7");
    CHECK(auth_client_key("2001:db8:1:2:aaaa::1") == auth_client_key("2001:db8:1:2:bbbb::2"));
    CHECK(auth_client_key("2001:db8:1:2::1") != auth_client_key("2001:db8:1:3::1"));
    BasicAuth auth({{"prometheus", bcrypt("pw")}});
    for (int i = 0; i < BasicAuth::kMaxFailures; ++i)
        CHECK_FALSE(auth.check("2001:db8:1:2::" + std::to_string(i + 1), "x", "y"));
    CHECK_FALSE(auth.check("2001:db8:1:2::ffff", "prometheus", "pw"));
    CHECK(auth.check("2001:db8:1:3::1", "prometheus", "pw"));
}

TEST_CASE("a flood from many addresses shares one bucket once the table is full") {
    BasicAuth auth({{"prometheus", "hash"}}, {},
                   [](const std::string& pw, const std::string&) { return pw == "pw"; });
    // kMaxClients distinct failing clients fill the table; the next ones share the overflow
    // bucket, which locks after its own ten failures.
    for (std::size_t i = 0; i < BasicAuth::kMaxClients + BasicAuth::kMaxFailures; ++i) {
        std::string a = "10." + std::to_string(i / 65536) + "." + std::to_string(i / 256 % 256) +
                        "." + std::to_string(i % 256);
        CHECK_FALSE(auth.check(a, "prometheus", "guess"));
    }
    // A client in the table (one failure so far) keeps its own count and gets in.
    CHECK(auth.check("10.0.0.1", "prometheus", "pw"));
    // A new client meets the locked overflow bucket until the flood's window ends: the price
    // of bounded memory, paid only while thousands of addresses are guessing at once.
    CHECK_FALSE(auth.check("172.16.0.1", "prometheus", "pw"));
}
