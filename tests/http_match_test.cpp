#include <doctest/doctest.h>

#include <cerrno>

#include "probes/http/http_match.hpp"

using namespace fedprobe;

namespace {

struct Pattern {
    regex_t re;
    explicit Pattern(const char* text) {
        REQUIRE(regcomp(&re, text, REG_EXTENDED | REG_NOSUB) == 0);
    }
    ~Pattern() { regfree(&re); }
};

// HttpFailure with named setters: designated initializers would have to name every field.
struct F {
    HttpFailure f;
    F& code(CURLcode c) { return f.code = c, *this; }
    F& os_errno(long e) { return f.os_errno = e, *this; }
    F& connected(bool b) { return f.connected = b, *this; }
    F& tls(bool b) { return f.tls = b, *this; }
    F& tls_done(bool b) { return f.tls_done = b, *this; }
    F& abort_detail(std::string d) { return f.abort_detail = std::move(d), *this; }
    F& curl_error(std::string e) { return f.curl_error = std::move(e), *this; }
    F& icmp(QueuedError q) { return f.icmp = std::move(q), *this; }
    operator HttpFailure() const { return f; }
};

HttpCheck classify(HttpFailure f, bool* target = nullptr) {
    bool said = false;
    auto c = classify_http_failure(f, said);
    if (target) *target = said;
    return c;
}

}  // namespace

TEST_CASE("status codes: any 2xx by default, else the listed ones") {
    CHECK(check_http_response(200, {}, "", nullptr).outcome == Outcome::ok);
    CHECK(check_http_response(204, {}, "", nullptr).outcome == Outcome::ok);
    auto e = check_http_response(500, {}, "broken", nullptr);
    CHECK(e.outcome == Outcome::mismatch);
    CHECK(e.detail == "status 500, expected 2xx");
    CHECK(check_http_response(301, {}, "", nullptr).outcome == Outcome::mismatch);
    CHECK(check_http_response(401, {401, 403}, "", nullptr).outcome == Outcome::ok);
    CHECK(check_http_response(200, {401, 403}, "", nullptr).detail ==
          "status 200, expected 401 or 403");
}

TEST_CASE("the body pattern, on bodies with NULs and without a terminator") {
    Pattern epr("epr (kent|surrey)-nhs");
    CHECK(check_http_response(200, {}, "<h1>epr kent-nhs</h1>", &epr.re).outcome == Outcome::ok);
    auto wrong = check_http_response(200, {}, "login page", &epr.re);
    CHECK(wrong.outcome == Outcome::mismatch);
    CHECK(wrong.detail == "status 200, but the body does not match");
    const char raw[] = "\0\0epr surrey-nhs";
    std::string with_nul(raw, sizeof raw - 1);
    CHECK(check_http_response(200, {}, with_nul, &epr.re).outcome == Outcome::ok);
    std::string_view cut("epr kent-nhs trailing", 7);  // "epr ken": must not read past it
    CHECK(check_http_response(200, {}, cut, &epr.re).outcome == Outcome::mismatch);
}

TEST_CASE("TCP-level failures map as for tcp probes") {
    bool target = false;
    auto refused = classify(F().code(CURLE_COULDNT_CONNECT).os_errno(ECONNREFUSED), &target);
    CHECK(refused.outcome == Outcome::refused);
    CHECK(target);
    CHECK(classify(F().code(CURLE_COULDNT_CONNECT).os_errno(EHOSTUNREACH), &target).outcome ==
          Outcome::unreachable);
    CHECK_FALSE(target);
    CHECK(classify(F().code(CURLE_COULDNT_CONNECT).os_errno(ENETUNREACH)).outcome ==
          Outcome::unreachable);
    CHECK(classify(F().code(CURLE_COULDNT_CONNECT)).outcome == Outcome::error);
    auto silent = classify(F().code(CURLE_OPERATION_TIMEDOUT));
    CHECK(silent.outcome == Outcome::filtered);
    CHECK(silent.detail == "no answer before the timeout");
}

TEST_CASE("an ICMP error queued on the socket names what stopped the connect") {
    QueuedError q;
    q.origin = 2;  // SO_EE_ORIGIN_ICMP
    q.type = 3;
    q.code = 13;  // communication administratively prohibited
    q.offender = IpAddress::parse("192.0.2.1");
    auto c = classify(F().code(CURLE_COULDNT_CONNECT).os_errno(EHOSTUNREACH).icmp(q));
    CHECK(c.outcome == Outcome::prohibited);
    CHECK(c.detail == "icmp type 3 code 13");
    // A later timeout with an ICMP error for a retransmitted SYN: still the router's verdict.
    CHECK(classify(F().code(CURLE_OPERATION_TIMEDOUT).icmp(q)).outcome == Outcome::prohibited);
    // Once connected, an old ICMP error says nothing about what failed later.
    CHECK(classify(F().code(CURLE_OPERATION_TIMEDOUT).connected(true).icmp(q)).outcome ==
          Outcome::filtered);
}

TEST_CASE("TLS failures are tls_error; silence after connect stays filtered") {
    CHECK(classify(F().code(CURLE_SSL_CONNECT_ERROR).connected(true).tls(true)).outcome ==
          Outcome::tls_error);
    CHECK(classify(F().code(CURLE_PEER_FAILED_VERIFICATION).connected(true).tls(true)).outcome ==
          Outcome::tls_error);
    auto cert = classify(F().code(CURLE_ABORTED_BY_CALLBACK)
                             .connected(true)
                             .tls(true)
                             .tls_done(true)
                             .abort_detail("certificate not trusted: certificate has expired"));
    CHECK(cert.outcome == Outcome::tls_error);
    CHECK(cert.detail == "certificate not trusted: certificate has expired");
    auto stalled = classify(F().code(CURLE_OPERATION_TIMEDOUT).connected(true).tls(true));
    CHECK(stalled.outcome == Outcome::filtered);
    CHECK(stalled.detail == "connected, but the TLS handshake did not finish before the timeout");
    // A middlebox that resets the handshake.
    CHECK(classify(F().code(CURLE_RECV_ERROR).connected(true).tls(true)).outcome ==
          Outcome::tls_error);
}

TEST_CASE("answers that are not HTTP, resets after the request, local errors") {
    CHECK(classify(F().code(CURLE_WEIRD_SERVER_REPLY).connected(true)).outcome ==
          Outcome::mismatch);
    bool target = false;
    auto reset = classify(F().code(CURLE_GOT_NOTHING).connected(true), &target);
    CHECK(reset.outcome == Outcome::refused);
    CHECK(target);
    CHECK(classify(F().code(CURLE_COULDNT_RESOLVE_HOST)).outcome == Outcome::error);
    CHECK(classify(F().code(CURLE_OUT_OF_MEMORY)).outcome == Outcome::error);
}

TEST_CASE("a TLS alert after the handshake (TLS 1.3 client certificate refused) is tls_error") {
    auto c = classify(F().code(CURLE_RECV_ERROR)
                          .connected(true)
                          .tls(true)
                          .tls_done(true)
                          .curl_error("OpenSSL SSL_read: error:0A00045C:SSL routines::tlsv13 "
                                      "alert certificate required, errno 0"));
    CHECK(c.outcome == Outcome::tls_error);
    CHECK(classify(F().code(CURLE_SSL_CERTPROBLEM).connected(true).tls(true)).outcome ==
          Outcome::error);  // our own certificate file: a local problem
}
