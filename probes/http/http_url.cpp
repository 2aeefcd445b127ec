#include "probes/http/http_url.hpp"

#include <curl/curl.h>

#include <memory>

namespace fedprobe {

namespace {

// A part of the URL, or nullopt when it has none.
std::optional<std::string> part(CURLU* u, CURLUPart which) {
    char* text = nullptr;
    if (curl_url_get(u, which, &text, 0) != CURLUE_OK) return std::nullopt;
    std::string out(text);
    curl_free(text);
    return out;
}

}  // namespace

std::optional<HttpUrl> parse_http_url(const std::string& url, std::string& why) {
    std::unique_ptr<CURLU, void (*)(CURLU*)> u(curl_url(), curl_url_cleanup);
    if (!u) {
        why = "cannot be parsed (out of memory)";
        return std::nullopt;
    }
    switch (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0)) {
        case CURLUE_OK:
            break;
        case CURLUE_UNSUPPORTED_SCHEME:
            why = "must be http:// or https://";
            return std::nullopt;
        case CURLUE_BAD_PORT_NUMBER:
            why = "has a port that is not 1..65535";
            return std::nullopt;
        default:
            why = "is not a URL (e.g. https://epr.example.nhs.uk/)";
            return std::nullopt;
    }
    auto scheme = part(u.get(), CURLUPART_SCHEME);
    if (scheme != "http" && scheme != "https") {
        why = "must be http:// or https://";
        return std::nullopt;
    }
    if (part(u.get(), CURLUPART_USER) || part(u.get(), CURLUPART_PASSWORD)) {
        why = "must not carry credentials (they would be sent to every site's probe)";
        return std::nullopt;
    }
    if (auto port = part(u.get(), CURLUPART_PORT); port && (*port == "0")) {
        why = "has a port that is not 1..65535";
        return std::nullopt;
    }
    auto host = part(u.get(), CURLUPART_HOST);
    if (!host || host->empty()) {
        why = "has no host";
        return std::nullopt;
    }
    if (host->size() > 2 && host->front() == '[') *host = host->substr(1, host->size() - 2);
    return HttpUrl{*scheme == "https", *host};
}

}  // namespace fedprobe
