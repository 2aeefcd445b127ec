// A problem found in a config file, with the place it was found.
#pragma once

#include <string>
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

}  // namespace fedprobe
