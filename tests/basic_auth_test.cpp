#include <crypt.h>
#include <doctest/doctest.h>

#include "exporters/basic_auth.hpp"

using namespace fedprobe;

namespace {
std::string bcrypt(const std::string& password) {
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    REQUIRE(crypt_gensalt_rn("$2b$", 4, nullptr, 0, salt, sizeof salt) !=
            nullptr);  // cost 4: fast tests
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
    CHECK(auth.check("prometheus", "pw"));
    CHECK_FALSE(auth.check("prometheus", "wrong"));
    CHECK_FALSE(auth.check("grafana", "pw"));
    CHECK(failures == 2);
}

TEST_CASE("after ten failures even the right password waits out the window") {
    BasicAuth auth({{"prometheus", bcrypt("pw")}});
    for (int i = 0; i < BasicAuth::kMaxFailures; ++i)
        CHECK_FALSE(auth.check("prometheus", "guess"));
    CHECK_FALSE(auth.check("prometheus", "pw"));
}
