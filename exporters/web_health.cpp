#include "exporters/web_health.hpp"

#include <array>
#include <cctype>

namespace fedprobe {

namespace {

constexpr std::array<std::int8_t, 256> kBase64 = [] {
    std::array<std::int8_t, 256> t{};
    t.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i)
        t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    return t;
}();

std::optional<std::string> decode_base64(std::string_view in) {
    if (in.size() % 4 != 0) return std::nullopt;
    std::string out;
    out.reserve(in.size() / 4 * 3);
    for (std::size_t i = 0; i < in.size(); i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = in[i + k];
            // Padding only at the very end, and at most two.
            if (c == '=' && i + 4 == in.size() && k >= 2) {
                v[k] = 0;
                ++pad;
                continue;
            }
            if (pad) return std::nullopt;  // data after padding
            v[k] = kBase64[static_cast<unsigned char>(c)];
            if (v[k] < 0) return std::nullopt;
        }
        const std::uint32_t n = (std::uint32_t(v[0]) << 18) | (std::uint32_t(v[1]) << 12) |
                                (std::uint32_t(v[2]) << 6) | std::uint32_t(v[3]);
        out.push_back(static_cast<char>(n >> 16));
        if (pad < 2) out.push_back(static_cast<char>(n >> 8 & 0xff));
        if (pad < 1) out.push_back(static_cast<char>(n & 0xff));
    }
    return out;
}

}  // namespace

WebHealth::Answer WebHealth::answer(std::string_view path, Clock::time_point now) const {
    if (path == "/-/healthy") {
        const auto beat =
            Clock::time_point(Clock::duration(last_beat_.load(std::memory_order_relaxed)));
        const auto age = now - beat;
        if (beat.time_since_epoch().count() != 0 && age <= stale_after_)
            return {200, "fedprobe is Healthy.\n"};
        return {503,
                "fedprobe is not healthy: its probing loop has not run for " +
                    std::to_string(std::chrono::duration_cast<std::chrono::seconds>(age).count()) +
                    " s.\n"};
    }
    if (path == "/-/ready") {
        if (ready_.load(std::memory_order_relaxed)) return {200, "fedprobe is Ready.\n"};
        return {503, "fedprobe is not ready: no config is being probed.\n"};
    }
    return {};
}

std::optional<std::pair<std::string, std::string>> parse_basic_authorization(
    std::string_view header) {
    constexpr std::string_view kScheme = "Basic ";
    if (header.size() < kScheme.size()) return std::nullopt;
    for (std::size_t i = 0; i < kScheme.size(); ++i)  // the scheme is case-insensitive
        if (std::tolower(static_cast<unsigned char>(header[i])) !=
            std::tolower(static_cast<unsigned char>(kScheme[i])))
            return std::nullopt;
    header.remove_prefix(kScheme.size());
    while (!header.empty() && header.front() == ' ')
        header.remove_prefix(1);
    auto decoded = decode_base64(header);
    if (!decoded) return std::nullopt;
    const auto colon = decoded->find(':');
    if (colon == std::string::npos) return std::nullopt;
    return std::pair{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

}  // namespace fedprobe
