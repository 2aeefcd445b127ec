// A problem found in a config file, with the place it was found.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace fedprobe {

struct Diagnostic {
    enum class Severity { error, warning };
    Severity severity = Severity::error;
    std::string file;
    int line = 0;  // 1-based; 0 when the problem has no single place (e.g. --site)
    int column = 0;
    std::string message;

    // "FILE:LINE:COLUMN: error: message", the form editors and CI logs link to.
    std::string format() const;
};

bool has_errors(const std::vector<Diagnostic>& diagnostics);

// A string from the config file as a message quotes it: in single quotes, control bytes
// escaped (\n, \x1b) so a value cannot forge log lines or terminal escapes, and at most
// kQuotedMax bytes of it followed by "...(N bytes)", so an 8 MB key gives a short line.
inline constexpr std::size_t kQuotedMax = 64;
std::string quote_excerpt(std::string_view text);

}  // namespace fedprobe
