#include <doctest/doctest.h>

#include "probes/http/http_timing.hpp"

using namespace fedprobe;

TEST_CASE("https: each phase is the gap between libcurl's cumulative marks") {
    CurlTimes t{.namelookup = 20,
                .connect = 1'020,
                .appconnect = 4'020,
                .pretransfer = 4'100,
                .starttransfer = 14'100,
                .total = 15'100};
    auto p = http_phases(t);
    CHECK(p.resolve == doctest::Approx(0.000020));
    CHECK(p.connect == doctest::Approx(0.001));
    CHECK(p.tls == doctest::Approx(0.003));
    CHECK(p.processing == doctest::Approx(0.010));
    CHECK(p.transfer == doctest::Approx(0.001));
}

TEST_CASE("plain http has no TLS phase") {
    auto p = http_phases({.namelookup = 10,
                          .connect = 510,
                          .appconnect = 0,
                          .pretransfer = 530,
                          .starttransfer = 2'530,
                          .total = 2'600});
    CHECK(p.tls == 0);
    CHECK(p.connect == doctest::Approx(0.0005));
    CHECK(p.processing == doctest::Approx(0.002));
    CHECK(p.transfer == doctest::Approx(0.00007));
}

TEST_CASE("a probe that stopped early reports 0 for the phases it never finished") {
    SUBCASE("filtered: no connect") {
        auto p = http_phases({.namelookup = 15, .total = 1'000'000});
        CHECK(p.resolve == doctest::Approx(0.000015));
        CHECK(p.connect == 0);
        CHECK(p.tls == 0);
        CHECK(p.processing == 0);
        CHECK(p.transfer == 0);
    }
    SUBCASE("the certificate failed: connected, TLS done, no request") {
        auto p =
            http_phases({.namelookup = 15, .connect = 115, .appconnect = 3'115, .total = 3'200});
        CHECK(p.connect == doctest::Approx(0.0001));
        CHECK(p.tls == doctest::Approx(0.003));
        CHECK(p.processing == 0);
        CHECK(p.transfer == 0);
    }
    SUBCASE("the handshake failed: connected only") {
        auto p = http_phases({.namelookup = 15, .connect = 115, .total = 900});
        CHECK(p.connect == doctest::Approx(0.0001));
        CHECK(p.tls == 0);
    }
}

TEST_CASE("marks out of order never give a negative phase") {
    auto p = http_phases({.namelookup = 500,
                          .connect = 400,
                          .appconnect = 300,
                          .pretransfer = 900,
                          .starttransfer = 800,
                          .total = 700});
    CHECK(p.connect == 0);
    CHECK(p.tls == 0);
    CHECK(p.processing == 0);
    CHECK(p.transfer == 0);
}
