// An HTTP response from the wire against the config's expectations: status from the first two
// bytes, the body after them, matched against a fixed body pattern and against none.
#include <regex.h>

#include <string>
#include <vector>

#include "fuzz/fuzz_target.hpp"
#include "probes/http/http_match.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    static regex_t* pattern = [] {
        static regex_t re;
        return regcomp(&re, "\"status\" *: *\"(ok|up)\"", REG_EXTENDED | REG_NOSUB) == 0 ? &re
                                                                                         : nullptr;
    }();
    const int status = (data[0] << 8 | data[1]) % 1000;
    // A std::string, as the probe holds the body: regexec reads it with REG_STARTEND, but
    // ASan's regexec interceptor checks the string up to a NUL regardless, so a bare buffer
    // would be reported as an overflow that the probe cannot have.
    const std::string body(reinterpret_cast<const char*>(data + 2), size - 2);
    (void)fedprobe::check_http_response(status, {}, body, nullptr);
    (void)fedprobe::check_http_response(status, {200, 204, 301}, body, pattern);
    return 0;
}
