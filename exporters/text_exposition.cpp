#include "exporters/text_exposition.hpp"

#include <charconv>
#include <cmath>

namespace fedprobe::text_exposition {

void append_head(std::string& out, std::string_view name, std::string_view help,
                 std::string_view type) {
    if (!help.empty()) {
        out.append("# HELP ").append(name).append(" ").append(help).append("\n");
    }
    out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void append_value(std::string& out, double v) {
    if (std::isnan(v)) {
        out.append("Nan");
        return;
    }
    if (std::isinf(v)) {
        out.append(v < 0 ? "-Inf" : "+Inf");
        return;
    }
    // prometheus-cpp streams with precision max_digits10 - 1 in the classic locale: %.16g.
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 16);
    out.append(buf, ec == std::errc() ? end : buf);
}

void append_escaped(std::string& out, std::string_view value) {
    std::size_t start = 0;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        if (c != '\\' && c != '"' && c != '\n') continue;
        out.append(value.substr(start, i - start));
        out.append(c == '\n' ? "\\n" : c == '"' ? "\\\"" : "\\\\");
        start = i + 1;
    }
    out.append(value.substr(start));
}

void append_series(std::string& out, std::string_view name, std::string_view suffix,
                   std::span<const LabelView> labels, std::string_view le) {
    out.append(name).append(suffix);
    if (labels.empty() && le.empty()) return;
    char sep = '{';
    for (const auto& [label, value] : labels) {
        out.push_back(sep);
        out.append(label).append("=\"");
        append_escaped(out, value);
        out.push_back('"');
        sep = ',';
    }
    if (!le.empty()) {
        out.push_back(sep);
        out.append("le=\"").append(le).push_back('"');
    }
    out.push_back('}');
}

}  // namespace fedprobe::text_exposition
