#include <doctest/doctest.h>

#include "probes/http/http_url.hpp"

using namespace fedprobe;

namespace {
std::string why_not(const std::string& url) {
    std::string why;
    CHECK_FALSE(parse_http_url(url, why));
    return why;
}
}  // namespace

TEST_CASE("the scheme and the host, as libcurl reads them") {
    std::string why;
    auto named = parse_http_url("https://epr.kent-nhs.lab:8443/health?x=1", why);
    REQUIRE(named);
    CHECK(named->tls);
    CHECK(named->host == "epr.kent-nhs.lab");
    auto v6 = parse_http_url("http://[2001:db8::20]:8080/", why);
    REQUIRE(v6);
    CHECK_FALSE(v6->tls);
    CHECK(v6->host == "2001:db8::20");  // without brackets: what a certificate check wants
}

TEST_CASE("what a config gets told") {
    CHECK(why_not("epr.kent-nhs.lab/") == "is not a URL (e.g. https://epr.example.nhs.uk/)");
    CHECK(why_not("ftp://files.lab/") == "must be http:// or https://");
    CHECK(why_not("https://epr.lab:70000/") == "has a port that is not 1..65535");
    CHECK(why_not("https://epr.lab:0/") == "has a port that is not 1..65535");
    CHECK(why_not("https://probe:secret@epr.lab/").starts_with("must not carry credentials"));
}
