// The TLS keys an application kind's table shares (server_name, ca_file, verify), read and
// turned into TlsSettings the same way for every kind. Config loading: any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "probes/app/dialogue.hpp"

namespace fedprobe {

class OptionReader;
struct JobContext;

inline constexpr std::string_view kTlsKeys[] = {"server_name", "ca_file", "verify"};

struct TlsOptions {
    std::string server_name, ca_file;
    bool verify = true;
    friend bool operator==(const TlsOptions&, const TlsOptions&) = default;
};
TlsOptions read_tls_options(OptionReader& r);
// The settings a probe uses: the [fedprobe] ca_file unless the table names one.
TlsSettings tls_settings(const TlsOptions& o, const JobContext& c, bool from_start);

}  // namespace fedprobe
