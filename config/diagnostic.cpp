#include "config/diagnostic.hpp"

#include <algorithm>

namespace fedprobe {

std::string Diagnostic::format() const {
    std::string out = file;
    if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
    out += severity == Severity::error ? ": error: " : ": warning: ";
    out += message;
    return out;
}

std::string quote_excerpt(std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "'";
    std::size_t shown = std::min(text.size(), kQuotedMax);
    // Never cut a UTF-8 sequence in half: back up to the start of the last character.
    if (shown < text.size())
        while (shown > 0 && (static_cast<unsigned char>(text[shown]) & 0xC0) == 0x80)
            --shown;
    for (std::size_t i = 0; i < shown; ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7f) {
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
        } else {
            out += static_cast<char>(c);
        }
    }
    out += "'";
    if (shown < text.size()) out += "...(" + std::to_string(text.size()) + " bytes)";
    return out;
}

bool has_errors(const std::vector<Diagnostic>& diagnostics) {
    return std::any_of(diagnostics.begin(), diagnostics.end(), [](const Diagnostic& d) {
        return d.severity == Diagnostic::Severity::error;
    });
}

}  // namespace fedprobe
