#include "exporters/http_gzip.hpp"

#include <zlib.h>

#include <algorithm>
#include <cctype>

namespace fedprobe {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

// "q=0", "q=0.0", "q=0.000": the coding is refused (RFC 9110, 12.4.2).
bool refused(std::string_view params) {
    while (!params.empty()) {
        const auto semi = params.find(';');
        std::string_view p = trim(params.substr(0, semi));
        params = semi == std::string_view::npos ? "" : params.substr(semi + 1);
        if (p.size() < 2 || std::tolower(static_cast<unsigned char>(p[0])) != 'q' || p[1] != '=')
            continue;
        p.remove_prefix(2);
        return !p.empty() && p.find_first_not_of("0.") == std::string_view::npos;
    }
    return false;
}

}  // namespace

bool accepts_gzip(const char* accept_encoding) {
    if (!accept_encoding) return false;
    std::string_view rest = accept_encoding;
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
        const auto semi = item.find(';');
        const std::string_view coding = trim(item.substr(0, semi));
        if (!iequals(coding, "gzip") && !iequals(coding, "x-gzip") && coding != "*") continue;
        if (!refused(semi == std::string_view::npos ? "" : item.substr(semi + 1))) return true;
    }
    return false;
}

std::optional<std::string> gzip(std::string_view body) {
    z_stream z{};
    // 15 window bits + 16: a gzip header and trailer rather than zlib's.
    if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return std::nullopt;
    std::string out;
    out.resize(deflateBound(&z, body.size()));
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
    z.avail_in = 0;
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = 0;
    // avail_in and avail_out are 32-bit: feed both in slices so that any size works.
    constexpr std::size_t kSlice = 1u << 30;
    std::size_t in_left = body.size(), out_left = out.size();
    int rc = Z_OK;
    while (rc == Z_OK || rc == Z_BUF_ERROR) {
        if (z.avail_in == 0 && in_left) {
            z.avail_in = static_cast<uInt>(std::min(in_left, kSlice));
            in_left -= z.avail_in;
        }
        if (z.avail_out == 0 && out_left) {
            z.avail_out = static_cast<uInt>(std::min(out_left, kSlice));
            out_left -= z.avail_out;
        }
        if (rc == Z_BUF_ERROR && z.avail_out == 0 && out_left == 0) break;  // cannot happen
        rc = deflate(&z, in_left || z.avail_in ? Z_NO_FLUSH : Z_FINISH);
    }
    const bool ok = rc == Z_STREAM_END;
    out.resize(z.total_out);
    deflateEnd(&z);
    if (!ok) return std::nullopt;
    return out;
}

}  // namespace fedprobe
