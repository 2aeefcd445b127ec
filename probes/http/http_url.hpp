// An http(s) URL's parts, read with libcurl's own URL parser: the loader validates with the
// same parser the probe fetches with, so a URL the config accepts is one libcurl can use.
#pragma once

#include <optional>
#include <string>

namespace fedprobe {

struct HttpUrl {
    bool tls = false;  // https
    std::string host;  // as in the URL, without the brackets of a v6 address
    friend bool operator==(const HttpUrl&, const HttpUrl&) = default;
};

// The parts of `url`, or nullopt with `why` saying what is wrong (for a config message).
std::optional<HttpUrl> parse_http_url(const std::string& url, std::string& why);

}  // namespace fedprobe
