#include "probes/http/http_match.hpp"

#include <algorithm>
#include <cstring>

namespace fedprobe {

HttpCheck check_http_response(int status, const std::vector<int>& expected, std::string_view body,
                              const regex_t* body_regex) {
    bool status_ok = expected.empty()
                         ? status >= 200 && status <= 299
                         : std::find(expected.begin(), expected.end(), status) != expected.end();
    if (!status_ok) {
        std::string wanted = expected.empty() ? "2xx" : "";
        for (int code : expected)
            wanted += (wanted.empty() ? "" : " or ") + std::to_string(code);
        return {Outcome::mismatch, "status " + std::to_string(status) + ", expected " + wanted};
    }
    if (body_regex) {
        // REG_STARTEND: the body is not NUL-terminated and may hold NULs.
        regmatch_t m{0, static_cast<regoff_t>(body.size())};
        if (regexec(body_regex, body.data(), 1, &m, REG_STARTEND) != 0)
            return {Outcome::mismatch,
                    "status " + std::to_string(status) + ", but the body does not match"};
    }
    return {Outcome::ok, "status " + std::to_string(status)};
}

HttpCheck classify_http_failure(const HttpFailure& f, bool& reporter_is_target) {
    reporter_is_target = false;
    auto with_curl = [&](std::string what) {
        return f.curl_error.empty() ? what : what + ": " + f.curl_error;
    };
    if (!f.abort_detail.empty()) return {Outcome::tls_error, f.abort_detail};
    if (!f.connected && f.icmp && f.icmp->from_icmp())
        return {outcome_of(*f.icmp), "icmp type " + std::to_string(f.icmp->type) + " code " +
                                         std::to_string(f.icmp->code)};
    switch (f.code) {
        case CURLE_COULDNT_CONNECT: {
            if (f.os_errno == 0) return {Outcome::error, with_curl("cannot connect")};
            Outcome o = outcome_from_errno(static_cast<int>(f.os_errno));
            reporter_is_target = o == Outcome::refused;
            return {o, std::strerror(static_cast<int>(f.os_errno))};
        }
        case CURLE_OPERATION_TIMEDOUT:
            if (!f.connected) return {Outcome::filtered, "no answer before the timeout"};
            if (f.tls && !f.tls_done)
                return {Outcome::filtered,
                        "connected, but the TLS handshake did not finish before the timeout"};
            return {Outcome::filtered, "connected, but no complete response before the timeout"};
        case CURLE_SSL_CERTPROBLEM:  // the client certificate or key cannot be used
            return {Outcome::error, with_curl("the client certificate cannot be used")};
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
        case CURLE_ABORTED_BY_CALLBACK:
            return {Outcome::tls_error, with_curl("TLS handshake failed")};
        case CURLE_GOT_NOTHING:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
            // A TLS alert after the handshake: TLS 1.3 servers refuse a missing or unknown
            // client certificate only once the client thinks the handshake is done.
            if (f.tls && f.curl_error.find(" alert ") != std::string::npos)
                return {Outcome::tls_error, with_curl("the server ended TLS with an alert")};
            // A reset or close after connect: the far end (or a device posing as it) said no.
            reporter_is_target = true;
            if (f.tls && !f.tls_done)
                return {Outcome::tls_error,
                        with_curl("the connection closed during the TLS handshake")};
            return {Outcome::refused, with_curl("the connection closed before a response")};
        case CURLE_UNSUPPORTED_PROTOCOL:  // only http(s) URLs load: this is an HTTP/0.9 answer
            if (!f.connected) return {Outcome::error, with_curl("unsupported protocol")};
            [[fallthrough]];
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_PARTIAL_FILE:
        case CURLE_BAD_CONTENT_ENCODING:
            return {Outcome::mismatch, with_curl("the service answered, but not with valid HTTP")};
        default:
            return {Outcome::error, with_curl(curl_easy_strerror(f.code))};
    }
}

}  // namespace fedprobe
