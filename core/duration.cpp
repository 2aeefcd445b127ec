#include "core/duration.hpp"

#include <cctype>
#include <cstdint>

namespace fedprobe {

std::optional<Duration> parse_duration(std::string_view text) {
    if (text.empty()) return std::nullopt;
    std::int64_t total_ns = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        if (!std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
        std::int64_t value = 0;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
            value = value * 10 + (text[i] - '0');
            if (value > 1'000'000'000) return std::nullopt;
            ++i;
        }
        std::size_t unit_start = i;
        while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i])))
            ++i;
        auto unit = text.substr(unit_start, i - unit_start);
        std::int64_t scale = 0;
        if (unit == "ms")
            scale = 1'000'000;
        else if (unit == "s")
            scale = 1'000'000'000;
        else if (unit == "m")
            scale = 60'000'000'000;
        else if (unit == "h")
            scale = 3'600'000'000'000;
        else if (unit == "d")
            scale = 86'400'000'000'000;
        else
            return std::nullopt;
        constexpr std::int64_t kMax = 366 * 86'400'000'000'000;  // a year is plenty
        if (value > kMax / scale || total_ns + value * scale > kMax) return std::nullopt;
        total_ns += value * scale;
    }
    return Duration(total_ns);
}

std::string format_duration(Duration d) {
    auto ns = d.count();
    if (ns % 1'000'000'000 == 0) return std::to_string(ns / 1'000'000'000) + "s";
    if (ns % 1'000'000 == 0) return std::to_string(ns / 1'000'000) + "ms";
    return std::to_string(ns) + "ns";
}

double to_seconds(Duration d) {
    return std::chrono::duration<double>(d).count();
}

}  // namespace fedprobe
