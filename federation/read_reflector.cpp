// [fedprobe.stamp]: this appliance's STAMP reflector.
#include <algorithm>
#include <set>

#include "config/toml_reader.hpp"
#include "federation/load_context.hpp"

namespace fedprobe {

void read_stamp_reflector(LoadContext& c, const toml::table& f) {
    TomlReader& r = c.r;
    const toml::table* t = r.get_table(f, "stamp", "[fedprobe]");
    if (!t) return;
    const std::string where = "[fedprobe.stamp]";
    r.check_keys(*t, {"listen", "allow", "mode", "auth_key_file", "rate_limit", "max_sessions"},
                 where);
    StampReflectorSettings st;
    for (auto& [text, node] : r.get_string_array(*t, "listen", where)) {
        auto ep = Endpoint::parse(text);
        if (!ep) {
            r.error(node->source(), where + ": listen " + quote_excerpt(text) +
                                        " is not ADDRESS:PORT (e.g. \"10.1.0.10:862\" or "
                                        "\"[::]:862\")");
            continue;
        }
        if (ep->port == 0) {
            r.error(node->source(), where + ": listen " + quote_excerpt(text) +
                                        ": port 0 is out of range (1-65535; STAMP's is 862)");
            continue;
        }
        st.listen.push_back(*ep);
    }
    if (st.listen.empty() && !t->get("listen"))
        r.error(t->source(), where +
                                 " has no 'listen' (e.g. [\"10.1.0.10:862\"]): say where "
                                 "the reflector answers, or remove the table");
    const std::size_t before = st.allow.size();
    for (auto& [id, node] : r.get_string_array(*t, "allow", where)) {
        const Network* n = c.cfg.network(id);
        if (!n) {
            r.error(node->source(), where + ": allow names " + quote_excerpt(id) +
                                        ", which is not a declared network");
            continue;
        }
        st.allow.insert(st.allow.end(), n->prefixes.begin(), n->prefixes.end());
    }
    if (st.allow.size() == before && !t->get("allow"))
        r.error(t->source(), where +
                                 " has no 'allow': list the networks whose appliances may "
                                 "measure towards this one (e.g. [\"kent-nhs\"])");
    if (auto mode = r.get_string(*t, "mode", where)) {
        if (*mode == "stateful" || *mode == "stateless")
            st.stateful = *mode == "stateful";
        else
            r.error(t->get("mode")->source(), where +
                                                  ": mode must be \"stateful\" or "
                                                  "\"stateless\", not " +
                                                  quote_excerpt(*mode));
    }
    if (auto path = r.get_string(*t, "auth_key_file", where)) {
        auto key = read_stamp_key(*path);
        if (key.ok())
            st.key = std::move(*key);
        else
            r.error(t->get("auth_key_file")->source(),
                    where + ": auth_key_file: " + key.status().message());
    }
    if (auto rate = r.get_positive_number(*t, "rate_limit", where)) st.rate_limit = *rate;
    if (auto n = r.get_int(*t, "max_sessions", where, 16, 1'000'000))
        st.max_sessions = static_cast<std::size_t>(*n);
    c.cfg.settings.stamp = std::move(st);
}

}  // namespace fedprobe
