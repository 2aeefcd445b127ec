// How an http probe's end becomes an outcome: the response against the expected status codes
// and body pattern, or libcurl's error (with what the socket learnt) as a reachability verdict.
// Pure, so every mapping is unit-tested.
#pragma once

#include <curl/curl.h>
#include <regex.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/socket.hpp"
#include "probes/outcome.hpp"

namespace fedprobe {

struct HttpCheck {
    Outcome outcome = Outcome::ok;
    std::string detail;
};

// `expected` empty: any 2xx. `body_regex` null: any body.
HttpCheck check_http_response(int status, const std::vector<int>& expected, std::string_view body,
                              const regex_t* body_regex);

// A transfer that libcurl ended with an error.
struct HttpFailure {
    CURLcode code = CURLE_OK;
    long os_errno = 0;                // CURLINFO_OS_ERRNO
    bool connected = false;           // TCP was established
    bool tls = false;                 // an https URL
    bool tls_done = false;            // the handshake finished
    std::string curl_error;           // CURLOPT_ERRORBUFFER
    std::string abort_detail;         // set when fedprobe stopped it (a certificate that failed)
    std::optional<QueuedError> icmp;  // an ICMP error queued on the socket before it closed
};
// The outcome; reporter_is_target says the target itself answered (for refused).
HttpCheck classify_http_failure(const HttpFailure& f, bool& reporter_is_target);

}  // namespace fedprobe
