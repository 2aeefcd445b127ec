#include "probes/app/tls_options.hpp"

#include "config/toml_reader.hpp"
#include "probes/kind.hpp"

namespace fedprobe {

TlsOptions read_tls_options(OptionReader& r) {
    TlsOptions o;
    if (auto name = r.string("server_name")) {
        if (name->empty() || name->find_first_of(" /\t\r\n") != std::string::npos)
            r.error("server_name", "server_name must be a host name or an address");
        else
            o.server_name = *name;
    }
    o.ca_file = r.readable_file("ca_file").value_or("");
    o.verify = r.boolean("verify").value_or(true);
    return o;
}

TlsSettings tls_settings(const TlsOptions& o, const JobContext& c, bool from_start) {
    TlsSettings t;
    t.from_start = from_start;
    t.server_name = o.server_name;
    t.ca_file = o.ca_file.empty() ? c.default_ca_file : o.ca_file;
    t.verify = o.verify;
    return t;
}

}  // namespace fedprobe
