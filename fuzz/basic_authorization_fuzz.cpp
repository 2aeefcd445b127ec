// An Authorization header's value as a client sends it, decoded as basic credentials for
// /-/healthy and /-/ready.
#include <string_view>

#include "exporters/web_health.hpp"
#include "fuzz/fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view header(reinterpret_cast<const char*>(data), size);
    auto credentials = fedprobe::parse_basic_authorization(header);
    // The user ends at the first colon: it can never hold one.
    if (credentials && credentials->first.find(':') != std::string::npos) __builtin_trap();
    return 0;
}
