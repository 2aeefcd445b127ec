// Reads a federation file into a Config, collecting every problem with its FILE:LINE:COLUMN.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostic.hpp"
#include "federation/config.hpp"

namespace fedprobe {

struct LoadResult {
    std::shared_ptr<const Config> config;  // null when any diagnostic is an error
    std::vector<Diagnostic> diagnostics;
};

LoadResult load_config_file(const std::string& path,
                            const std::optional<std::string>& site_override);
LoadResult load_config_text(std::string_view text, const std::string& path,
                            const std::optional<std::string>& site_override);

}  // namespace fedprobe
