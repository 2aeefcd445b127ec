// [fedprobe.capture]: passive capture of handshakes, and on which interfaces.
#include <algorithm>
#include <set>

#include "config/toml_reader.hpp"
#include "federation/load_context.hpp"

namespace fedprobe {

void read_capture(LoadContext& c, const toml::table& f) {
    TomlReader& r = c.r;
    const toml::table* t = r.get_table(f, "capture", "[fedprobe]");
    if (!t) return;
    const std::string where = "[fedprobe.capture]";
    r.check_keys(*t, {"interfaces", "max_flows", "handshake_timeout"}, where);
    CaptureConfig cap;
    for (auto& [name, node] : r.get_string_array(*t, "interfaces", where)) {
        // IFNAMSIZ: 15 characters and the NUL.
        if (name.empty() || name.size() > 15 || name.find('/') != std::string::npos ||
            std::any_of(name.begin(), name.end(),
                        [](char ch) { return ch <= ' ' || ch == 0x7f; })) {
            r.error(node->source(), where + ": " + quote_excerpt(name) +
                                        " is not an interface name (at most 15 characters, no "
                                        "spaces or '/')");
            continue;
        }
        if (std::find(cap.interfaces.begin(), cap.interfaces.end(), name) != cap.interfaces.end()) {
            r.error(node->source(), where + ": interface '" + name + "' is listed twice");
            continue;
        }
        cap.interfaces.push_back(name);
    }
    if (cap.interfaces.empty()) {
        const toml::node* at = t->get("interfaces");
        if (!at)
            r.error(t->source(), where +
                                     " has no 'interfaces' (e.g. [\"eth1\"]): name the "
                                     "interfaces to capture on, or remove the table");
        else if (at->is_array() && at->as_array()->empty())
            r.error(at->source(), where + ": 'interfaces' is empty");
    }
    if (auto n = r.get_int(*t, "max_flows", where, 1024, 16'777'216))
        cap.max_flows = static_cast<std::size_t>(*n);
    if (auto d = r.get_duration(*t, "handshake_timeout", where)) {
        if (*d < std::chrono::milliseconds(100) || *d > std::chrono::seconds(60))
            r.error(t->get("handshake_timeout")->source(),
                    where + ": handshake_timeout must be between 100ms and 60s");
        else
            cap.handshake_timeout = *d;
    }
    c.cfg.settings.capture = std::move(cap);
}

}  // namespace fedprobe
