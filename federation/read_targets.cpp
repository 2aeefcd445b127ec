// [[targets]]: what this federation probes, with each probe kind's own option table read by
// that kind's parser (kinds.hpp).
#include <algorithm>
#include <map>
#include <set>

#include "federation/load_context.hpp"
#include "probes/outcome.hpp"

namespace fedprobe {

namespace {

// [a-zA-Z_][a-zA-Z0-9_]*, Prometheus' label names
bool is_label_name(const std::string& s) {
    auto alpha = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    };
    if (s.empty() || !alpha(s[0])) return false;
    return std::all_of(s.begin(), s.end(),
                       [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

// Labels fedprobe sets itself; a target label with one of these names would clash.
const std::set<std::string> kReservedLabels = {"site",    "network", "target",   "probe",
                                               "service", "outcome", "reporter", "reporter_network",
                                               "flow",    "job",     "instance", "le",
                                               "phase",   "state",   "version",  "cert",
                                               "reason",  "ttl",     "hop",      "hop_network",
                                               "change",  "source",  "how",      "direction",
                                               "code",    "result"};

// "KIND" or "KIND:SERVICE", checked against the kind's rules for services (kinds.hpp).
std::optional<ProbeSpec> parse_probe(LoadContext& c, const std::string& text,
                                     const toml::node& node, const std::string& where) {
    TomlReader& r = c.r;
    auto colon = text.find(':');
    const std::string name = text.substr(0, colon);
    const std::string service = colon == std::string::npos ? "" : text.substr(colon + 1);
    auto kind = kind_index(name);
    if (!kind) {
        r.error(node.source(),
                where + ": probe kind " + quote_excerpt(name) + " is not one of " + kind_names());
        return std::nullopt;
    }
    std::string problem;
    visit_kind(*kind, [&]<typename K>() {
        if (K::kServices == ServiceUse::none) {
            if (!service.empty()) problem = std::string(K::kName) + " takes no service";
            return;
        }
        if (service.empty()) {
            if (K::kServices == ServiceUse::required)
                problem = "needs a service, e.g. " + std::string(K::kName) + ":https";
            return;
        }
        auto it = c.cfg.services.find(service);
        if (it == c.cfg.services.end()) {
            problem = "service " + quote_excerpt(service) + " is not declared in [services]";
            return;
        }
        const auto& allowed = K::kTransports;
        if (std::find(allowed.begin(), allowed.end(), it->second.transport) == allowed.end()) {
            const char* is = it->second.transport == Transport::tcp ? "tcp" : "udp";
            problem = "service '" + service + "' is " + is + ", not " +
                      (it->second.transport == Transport::tcp ? "udp" : "tcp");
        }
    });
    if (!problem.empty()) {
        // "needs a service" reads better without the colon: "probe 'tcp' needs a service".
        r.error(node.source(), where + ": probe " + quote_excerpt(text) +
                                   (problem.starts_with("needs") ? " " : ": ") + problem);
        return std::nullopt;
    }
    return ProbeSpec{*kind, service};
}

}  // namespace

// Every kind's [targets.KIND] table, read by that kind's own parser, and every probe checked
// against the options it has. False when a probe cannot run as configured.
bool read_kind_options(LoadContext& c, const toml::table& t, Target& tg, const std::string& where) {
    TomlReader& r = c.r;
    bool ok = true;
    for_each_kind([&]<typename K>() {
        constexpr std::size_t index = kind_index_of<K>();
        KindUse use;
        for (const auto& p : tg.probes())
            if (p.kind == index) (p.service.empty() ? use.plain : use.with_service) = true;
        const std::string key(K::kName);
        auto& slot = std::get<Boxed<typename K::Options>>(tg.options);
        if (const toml::table* table = r.get_table(t, key, where)) {
            if (!use.any())
                r.warning(t.get(key)->source(), where + ": '" + key + "' options are set, but no " +
                                                    key + " probe runs; they are ignored");
            OptionReader options(r, *table, where + ": " + key, [&c](const std::string& id) {
                return c.cfg.network(id) != nullptr;
            });
            slot = K::parse(options, use);
        }
        if (!use.any()) return;
        for (const auto& p : tg.probes()) {
            if (p.kind != index) continue;
            KindUse one;
            (p.service.empty() ? one.plain : one.with_service) = true;
            one.interval = tg.interval;
            one.timeout = tg.timeout;
            if (std::string why = K::check(one, slot.get()); !why.empty()) {
                r.error(t.source(), where + ": probe '" + p.str() + "' " + why);
                ok = false;
            }
        }
        slot = std::get<kind_index_of<K>()>(c.option_pools).intern(std::move(slot));
    });
    return ok;
}

std::optional<IpAddress> read_address(LoadContext& c, const toml::node& n,
                                      const std::string& what) {
    TomlReader& r = c.r;
    auto text = n.value<std::string>();
    if (!text || !n.is_string()) {
        r.error(n.source(), what + " must be a string, not " + type_name(n));
        return std::nullopt;
    }
    auto a = IpAddress::parse(*text);
    if (!a) r.error(n.source(), what + ": '" + *text + "' is not a literal IPv4/IPv6 address");
    return a;
}

namespace {

// `expect = "WORD"` for every probe of the target, or `expect = { "tcp:rdp" = "WORD" }` by
// probe; WORD is "ok", "fail" or an outcome's name. Read after `probes`.
void read_expect(LoadContext& c, const toml::table& t, Target& tg, const std::string& where) {
    TomlReader& r = c.r;
    const toml::node* node = t.get("expect");
    if (!node) return;
    auto word = [&](const toml::node& n, const std::string& what) -> std::optional<std::string> {
        auto v = n.value<std::string>();
        if (!v || !n.is_string()) {
            r.error(n.source(), where + ": " + what + " must be a string, not " + type_name(n));
            return std::nullopt;
        }
        if (*v != "fail" && !outcome_from_name(*v)) {
            std::string words = "\"ok\", \"fail\"";
            for (Outcome o : kAllOutcomes)
                if (o != Outcome::ok) words += ", \"" + std::string(to_string(o)) + "\"";
            r.error(n.source(),
                    where + ": " + what + " " + quote_excerpt(*v) + " is not one of " + words);
            return std::nullopt;
        }
        return *v;
    };
    if (const toml::table* by_probe = node->as_table()) {
        std::string listed;
        for (const ProbeSpec& p : tg.probes())
            listed += (listed.empty() ? "" : ", ") + p.str();
        for (const auto& [key, value] : *by_probe) {
            const std::string probe(key.str());
            const bool has = std::any_of(tg.probes().begin(), tg.probes().end(),
                                         [&](const ProbeSpec& p) { return p.str() == probe; });
            if (!has) {
                r.error(value.source(), where + ": expect names " + quote_excerpt(probe) +
                                            ", which is not one of its probes (" + listed + ")");
                continue;
            }
            if (auto w = word(value, "expect." + probe); w && *w != "ok")
                tg.set_extras().expect[probe] = *w;
        }
        return;
    }
    if (auto w = word(*node, "expect"); w && *w != "ok") tg.set_extras().expect[""] = *w;
}

// One [[targets]] table, explicit or derived; `seen` holds the ids read so far.
void read_target(LoadContext& c, const toml::table* t,
                 std::map<std::string, const toml::node*>& seen) {
    TomlReader& r = c.r;
    std::string where = "[[targets]]";
    std::vector<std::string_view> keys = {
        "id",   "network", "address", "addresses_from", "probes", "interval", "timeout", "labels",
        "from", "enabled", "source",  "device",         "dscp",   "flows",    "expect"};
    keys.insert(keys.end(), Kinds::names.begin(), Kinds::names.end());  // [targets.KIND]
    r.check_keys(*t, keys, where);
    auto id = r.get_string(*t, "id", where);
    if (!id) {
        if (!t->get("id")) r.error(t->source(), "[[targets]] entry has no 'id'");
        return;
    }
    where = "target " + quote_excerpt(*id);
    if (!check_id(c, *t, *id, where)) return;
    if (seen.count(*id)) {
        r.error(t->get("id")->source(), "duplicate target id '" + *id +
                                            "' (first declared at line " +
                                            std::to_string(seen[*id]->source().begin.line) + ")");
        return;
    }
    seen[*id] = t->get("id");
    Target tg;
    tg.id = *id;
    bool ok = true;

    auto network = r.get_string(*t, "network", where);
    const Network* net = nullptr;
    if (!network) {
        if (!t->get("network")) r.error(t->source(), where + " has no 'network'");
        ok = false;
    } else if (!(net = c.cfg.network(*network))) {
        r.error(t->get("network")->source(),
                where + ": network '" + *network + "' is not declared in [[networks]]");
        ok = false;
    } else {
        tg.network = *network;
    }

    if (const toml::node* a = t->get("address")) {
        if (auto addr = read_address(c, *a, where + ": address")) {
            tg.address = *addr;
            if (net && !net->prefixes.empty() &&
                std::none_of(net->prefixes.begin(), net->prefixes.end(),
                             [&](const Prefix& p) { return p.contains(*addr); }))
                r.warning(a->source(), where + ": address " + addr->str() +
                                           " is outside the prefixes of network '" + net->id + "'");
        } else {
            ok = false;
        }
    } else {
        r.error(t->source(), where + " has no 'address'");
        ok = false;
    }

    if (const toml::table* af = r.get_table(*t, "addresses_from", where)) {
        for (auto&& [site, node] : *af) {
            std::string s(site.str());
            if (!c.cfg.network(s))
                r.error(site.source(), where + ": addresses_from names " + quote_excerpt(s) +
                                           ", which is not a declared network");
            if (auto addr = read_address(c, node, where + ": addresses_from." + s)) {
                if (addr->family != tg.address.family && tg.address.valid())
                    r.error(node.source(), where + ": addresses_from." + s +
                                               " is not the same IP version as 'address'");
                tg.set_extras().addresses_from[s] = *addr;
            }
        }
    }

    if (!t->get("probes"))
        r.error(t->source(), where + " has no 'probes' (e.g. [\"icmp\", \"tcp:https\"])");
    std::vector<ProbeSpec> probes;
    for (auto& [text, node] : r.get_string_array(*t, "probes", where)) {
        auto spec = parse_probe(c, text, *node, where);
        if (!spec) continue;
        if (std::find(probes.begin(), probes.end(), *spec) != probes.end()) {
            r.error(node->source(), where + ": probe " + quote_excerpt(text) + " is listed twice");
            continue;
        }
        probes.push_back(*spec);
    }
    if (!probes.empty()) tg.probe_list = c.probe_lists.intern(std::move(probes));

    tg.interval = r.get_duration(*t, "interval", where).value_or(c.cfg.settings.interval);
    tg.timeout = r.get_duration(*t, "timeout", where).value_or(c.cfg.settings.timeout);
    if (tg.timeout >= tg.interval) {
        const toml::node* at = t->get("timeout") ? t->get("timeout") : t->get("interval");
        r.warning(at ? at->source() : t->source(),
                  where + ": timeout " + format_duration(tg.timeout) +
                      " is not shorter than interval " + format_duration(tg.interval) +
                      "; rounds that time out will skip the next one");
    }

    if (const toml::table* labels = r.get_table(*t, "labels", where)) {
        for (auto&& [k, v] : *labels) {
            std::string name(k.str());
            if (!is_label_name(name) || name.starts_with("__")) {
                r.error(k.source(), where + ": label name " + quote_excerpt(name) +
                                        " is not a valid Prometheus label name");
            } else if (kReservedLabels.count(name)) {
                r.error(k.source(), where + ": label '" + name +
                                        "' is set by fedprobe itself; choose another name");
            } else if (auto value = v.value<std::string>(); value && v.is_string()) {
                tg.set_extras().labels[name] = *value;
            } else {
                r.error(v.source(),
                        where + ": label '" + name + "' must be a string, not " + type_name(v));
            }
        }
        if (tg.labels().size() > 8)
            r.warning(labels->source(),
                      where + ": " + std::to_string(tg.labels().size()) +
                          " labels; keep static labels few, every series carries them");
    }

    for (auto& [site, node] : r.get_string_array(*t, "from", where)) {
        if (!c.cfg.network(site))
            r.error(node->source(), where + ": from names " + quote_excerpt(site) +
                                        ", which is not a declared network");
        tg.set_extras().from_sites.push_back(site);
    }
    tg.enabled = r.get_bool(*t, "enabled", where).value_or(true);
    tg.flow_destination = r.get_bool(*t, "flows", where).value_or(true);
    read_expect(c, *t, tg, where);

    if (const toml::node* src = t->get("source")) {
        if (auto a = read_address(c, *src, where + ": source")) {
            if (tg.address.valid() && a->family != tg.address.family)
                r.error(src->source(), where + ": source " + a->str() +
                                           " is not the same IP version as the address");
            tg.set_extras().send.source = a;
        }
    }
    if (auto dev = r.get_string(*t, "device", where)) {
        if (dev->empty() || dev->size() >= 16 || dev->find('/') != std::string::npos)
            r.error(t->get("device")->source(),
                    where + ": device '" + *dev + "' is not an interface name");
        tg.set_extras().send.device = *dev;
    }
    if (auto v = r.get_int(*t, "dscp", where, 0, 63))
        tg.set_extras().send.dscp = static_cast<int>(*v);
    if (!read_kind_options(c, *t, tg, where)) ok = false;

    if (ok) c.cfg.targets.push_back(std::move(tg));
}

// A target per network with an appliance_address: the other appliances trace their way to it
// (path, icmp: it needs no port open at the border), and measure it with STAMP where the
// federation reflects STAMP and no target of that network already does. Each is an ordinary
// [[targets]] table, read as one, so a derived target can do nothing an explicit one cannot.
std::vector<toml::table> derived_appliance_targets(LoadContext& c) {
    std::vector<std::string> sites;
    for (const toml::table* t : c.appliance_networks)
        sites.push_back(t->get_as<std::string>("id")->get());
    std::vector<toml::table> out;
    for (const toml::table* t : c.appliance_networks) {
        const std::string id = t->get_as<std::string>("id")->get();
        toml::table d;
        d.insert("id", id + "-appliance");
        d.insert("network", id);
        d.insert("address", *t->get("appliance_address"));
        if (const toml::node* af = t->get("appliance_addresses_from"))
            d.insert("addresses_from", *af);
        toml::array from;
        for (const auto& s : sites)
            if (s != id) from.push_back(s);
        d.insert("from", std::move(from));
        toml::array probes{"path"};
        bool stamped = false;
        for (const auto& tg : c.cfg.targets)
            for (const auto& p : tg.probes())
                stamped = stamped || (tg.network == id && p.name() == "stamp");
        if (c.cfg.settings.stamp && !stamped) probes.push_back("stamp");
        d.insert("probes", std::move(probes));
        // A STAMP round (10 packets 100 ms apart, then the timeout) needs a few seconds; the
        // trace keeps the flows' interval (below) whatever this is.
        d.insert("interval", format_duration(std::max<Duration>(c.cfg.settings.interval,
                                                                std::chrono::seconds(10))));
        // Every interval, not path's own 60 s default: verdicts need the way back as
        // fresh as the flows.
        d.insert("path", toml::table{{"method", "icmp"},
                                     {"interval", format_duration(c.cfg.settings.interval)}});
        d.insert("flows", false);
        out.push_back(std::move(d));
    }
    return out;
}

}  // namespace

void read_targets(LoadContext& c, const toml::table& root) {
    std::map<std::string, const toml::node*> seen;
    const auto tables = c.r.get_table_array(root, "targets");
    // Exactly sized: a Target is a few hundred bytes, and doubling growth would leave up to
    // half of 100,000 of them as slack for the life of the config.
    c.cfg.targets.reserve(tables.size() + c.appliance_networks.size());
    for (const toml::table* t : tables)
        read_target(c, t, seen);
    // An explicit target of the same id wins: a site may tune its own.
    for (const toml::table& d : derived_appliance_targets(c))
        if (!seen.count(d.get_as<std::string>("id")->get())) read_target(c, &d, seen);
}

}  // namespace fedprobe
