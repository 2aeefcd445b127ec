#include "exporters/http_gzip.hpp"

#include <doctest/doctest.h>
#include <zlib.h>

#include <random>

using namespace fedprobe;

namespace {

// Inflates a gzip member with zlib's own decoder (window bits 15 + 16: gzip only).
std::string gunzip(const std::string& z) {
    z_stream s{};
    REQUIRE(inflateInit2(&s, 15 + 16) == Z_OK);
    std::string out;
    char buf[65536];
    s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(z.data()));
    s.avail_in = static_cast<uInt>(z.size());
    int rc = Z_OK;
    while (rc == Z_OK) {
        s.next_out = reinterpret_cast<Bytef*>(buf);
        s.avail_out = sizeof buf;
        rc = inflate(&s, Z_NO_FLUSH);
        out.append(buf, sizeof buf - s.avail_out);
    }
    CHECK(rc == Z_STREAM_END);
    CHECK(s.avail_in == 0);  // one member, nothing after it
    inflateEnd(&s);
    return out;
}

}  // namespace

TEST_CASE("Accept-Encoding: gzip when listed, in any case, unless refused with q=0") {
    CHECK(accepts_gzip("gzip"));
    CHECK(accepts_gzip("gzip, deflate"));  // what Prometheus sends
    CHECK(accepts_gzip("deflate, GZip;q=0.5"));
    CHECK(accepts_gzip("br;q=1.0, gzip;q=0.8, *;q=0.1"));
    CHECK(accepts_gzip("x-gzip"));
    CHECK(accepts_gzip("*"));
    CHECK(accepts_gzip(" gzip ; q=1"));
    CHECK_FALSE(accepts_gzip(nullptr));
    CHECK_FALSE(accepts_gzip(""));
    CHECK_FALSE(accepts_gzip("identity"));
    CHECK_FALSE(accepts_gzip("deflate, br"));
    CHECK_FALSE(accepts_gzip("gzip;q=0"));
    CHECK_FALSE(accepts_gzip("gzip; q=0.000"));
    CHECK_FALSE(accepts_gzip("gzipx, xgzip"));
}

TEST_CASE("gzip gives a member that zlib inflates back to the body") {
    CHECK(gunzip(*gzip("")).empty());
    std::string text;
    for (int i = 0; i < 200000; ++i)
        text += "fedprobe_probe_success{network=\"surrey-psn\",target=\"t" + std::to_string(i) +
                "\"} 1\n";
    auto z = gzip(text);
    REQUIRE(z);
    CHECK(z->size() < text.size() / 5);  // exposition text compresses well even at level 1
    CHECK(static_cast<unsigned char>((*z)[0]) == 0x1f);  // gzip magic
    CHECK(static_cast<unsigned char>((*z)[1]) == 0x8b);
    CHECK(gunzip(*z) == text);
    // Random bytes do not compress: the output may be larger, and must still be whole.
    std::mt19937 rng(1);
    std::string noise(1 << 20, '\0');
    for (char& c : noise)
        c = static_cast<char>(rng());
    CHECK(gunzip(*gzip(noise)) == noise);
}
