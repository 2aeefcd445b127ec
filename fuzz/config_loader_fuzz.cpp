// The config loader on arbitrary bytes: every problem must be a located diagnostic, never a
// crash; a file that loads must also build its jobs for its site.
#include <string_view>

#include "engine/jobs.hpp"
#include "federation/loader.hpp"
#include "fuzz/fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto loaded = fedprobe::load_config_text(text, "fuzz.toml", std::nullopt);
    for (const auto& d : loaded.diagnostics)
        (void)d.format();
    if (loaded.config) (void)fedprobe::build_jobs(*loaded.config);
    return 0;
}
