// tcp probes have no option table of their own: the service gives the port.
#include "config/toml_reader.hpp"
#include "probes/tcp/tcp_kind.hpp"

namespace fedprobe {

TcpOptions TcpKind::parse(OptionReader& r, const KindUse&) {
    r.check_keys({});
    return {};
}

}  // namespace fedprobe
