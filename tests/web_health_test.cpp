#include "exporters/web_health.hpp"

#include <doctest/doctest.h>

using namespace fedprobe;
using namespace std::chrono_literals;
using namespace std::string_literals;

TEST_CASE("basic credentials are decoded; anything else is refused") {
    auto c = parse_basic_authorization("Basic cHJvbWV0aGV1czpzM2NyZXQ=");  // prometheus:s3cret
    REQUIRE(c);
    CHECK(c->first == "prometheus");
    CHECK(c->second == "s3cret");
    c = parse_basic_authorization("basic dTpwOmFzcw==");  // u:p:ass, scheme in any case
    REQUIRE(c);
    CHECK(c->first == "u");
    CHECK(c->second == "p:ass");                  // only the first colon separates
    c = parse_basic_authorization("Basic dTo=");  // "u:" : an empty password
    REQUIRE(c);
    CHECK(c->second.empty());
    c = parse_basic_authorization("Basic cHJvbWV0aGV1czpzM2NyZXQAZ2FyYmFnZQ==");
    REQUIRE(c);
    CHECK(c->second == "s3cret\0garbage"s);  // kept whole; BasicAuth refuses the NUL
    CHECK_FALSE(parse_basic_authorization("Bearer cHJvbWV0aGV1czpzM2NyZXQ="));
    CHECK_FALSE(parse_basic_authorization("Basic bm9jb2xvbg=="));   // "nocolon"
    CHECK_FALSE(parse_basic_authorization("Basic cHJvbWV0aGV1c"));  // not a multiple of 4
    CHECK_FALSE(parse_basic_authorization("Basic cHJv!WV0"));       // not base64
    CHECK_FALSE(parse_basic_authorization("Basic dT=6cA=="));       // data after padding
    CHECK_FALSE(parse_basic_authorization("Basic"));
    CHECK_FALSE(parse_basic_authorization(""));
}

TEST_CASE("healthy while the loop beats; ready once probing; other paths are not ours") {
    WebHealth h(15s);
    const auto t0 = WebHealth::Clock::now();
    CHECK(h.answer("/-/healthy", t0).status == 503);  // never beaten
    CHECK(h.answer("/-/ready", t0).status == 503);
    h.beat(t0);
    h.set_ready(true);
    CHECK(h.answer("/-/healthy", t0 + 10s).status == 200);
    CHECK(h.answer("/-/healthy", t0 + 10s).body == "fedprobe is Healthy.\n");
    CHECK(h.answer("/-/ready", t0 + 10s).status == 200);
    auto stale = h.answer("/-/healthy", t0 + 20s);
    CHECK(stale.status == 503);
    CHECK(stale.body.find("has not run for 20 s") != std::string::npos);
    h.set_ready(false);  // stopping
    CHECK(h.answer("/-/ready", t0).status == 503);
    CHECK(h.answer("/metrics", t0).status == 0);
    CHECK(h.answer("/", t0).status == 0);
    CHECK(h.answer("/-/healthy/x", t0).status == 0);
}
