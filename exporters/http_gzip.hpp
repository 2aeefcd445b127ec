// gzip for HTTP bodies: whether a request's Accept-Encoding takes gzip, and the compression
// itself (zlib). Prometheus asks for gzip on every scrape; an exposition of tens of megabytes
// shrinks about tenfold, which matters on links between organisations.
//
// Threads: plain functions; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace fedprobe {

// True when the Accept-Encoding header lists gzip (or *) without q=0. Null: no header.
bool accepts_gzip(const char* accept_encoding);

// The gzip member (RFC 1952) of `body`, at zlib's fastest level: a scrape's time is spent
// compressing otherwise, and the text compresses well at any level. Nullopt when zlib fails.
std::optional<std::string> gzip(std::string_view body);

}  // namespace fedprobe
