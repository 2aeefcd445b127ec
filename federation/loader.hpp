// Reads a federation file into a Config, collecting every problem with its FILE:LINE:COLUMN.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostic.hpp"
#include "federation/config.hpp"
#include "federation/config_signature.hpp"

namespace fedprobe {

struct LoadResult {
    std::shared_ptr<const Config> config;  // null when any diagnostic is an error
    std::vector<Diagnostic> diagnostics;
};

// With `trust` (--trusted-keys), the file's bytes must carry its signatures first: an unsigned
// or wrongly signed file is an error, as a syntax error is (federation/config_signature.hpp).
LoadResult load_config_file(const std::string& path,
                            const std::optional<std::string>& site_override,
                            const ConfigTrust& trust = {});
LoadResult load_config_text(std::string_view text, const std::string& path,
                            const std::optional<std::string>& site_override);

}  // namespace fedprobe
