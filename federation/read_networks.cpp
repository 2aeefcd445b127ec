// [[networks]] and [services]: what the federation is made of. [fedprobe] (how this appliance
// runs) is read_settings.cpp, its capture read_capture.cpp, its STAMP reflector
// read_reflector.cpp.
#include <algorithm>
#include <set>

#include "config/toml_reader.hpp"
#include "federation/load_context.hpp"

namespace fedprobe {

bool is_id(const std::string& s) {
    if (s.empty() || s[0] == '-') return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
}

bool check_id(LoadContext& c, const toml::table& t, const std::string& id,
              const std::string& where) {
    TomlReader& r = c.r;
    if (is_id(id)) return true;
    r.error(t.get("id")->source(), where + ": id " + quote_excerpt(id) +
                                       " must match [a-z0-9-]+ (lower case, digits, dashes)");
    return false;
}

void read_networks(LoadContext& c, const toml::table& root) {
    TomlReader& r = c.r;
    auto tables = r.get_table_array(root, "networks");
    if (tables.empty() && !root.get("networks")) {
        r.error(root.source(),
                "no [[networks]] declared: the federation needs at least this site's network");
    }
    for (const toml::table* t : tables) {
        std::string where = "[[networks]]";
        r.check_keys(*t,
                     {"id", "kind", "name", "prefixes", "rate_limit", "appliance",
                      "appliance_address", "appliance_addresses_from", "icmp"},
                     where);
        Network net;
        auto id = r.get_string(*t, "id", where);
        if (!id) {
            if (!t->get("id")) r.error(t->source(), "[[networks]] entry has no 'id'");
            continue;
        }
        where = "network " + quote_excerpt(*id);
        if (!check_id(c, *t, *id, where)) continue;
        if (c.network_nodes.count(*id)) {
            auto first = c.network_nodes[*id]->source().begin;
            r.error(t->get("id")->source(), "duplicate network id '" + *id +
                                                "' (first declared at line " +
                                                std::to_string(first.line) + ")");
            continue;
        }
        c.network_nodes[*id] = t->get("id");
        net.id = *id;
        if (auto kind = r.get_string(*t, "kind", where)) {
            if (*kind == "nhs")
                net.kind = NetworkKind::nhs;
            else if (*kind == "psn")
                net.kind = NetworkKind::psn;
            else if (*kind == "other")
                net.kind = NetworkKind::other;
            else
                r.error(t->get("kind")->source(),
                        where + ": kind '" + *kind + "' is not one of nhs, psn, other");
        }
        net.name = r.get_string(*t, "name", where).value_or(net.id);
        std::vector<std::string> overlapping;  // networks already warned about
        for (auto& [text, node] : r.get_string_array(*t, "prefixes", where)) {
            auto p = Prefix::parse(text);
            if (!p) {
                r.error(node->source(), where + ": " + quote_excerpt(text) +
                                            " is not an IPv4/IPv6 prefix (e.g. 10.31.0.0/16)");
                continue;
            }
            if (p->address != Prefix::parse(text.substr(0, text.find('/')))->address)
                r.warning(node->source(),
                          where + ": '" + text + "' has host bits set; using " + p->str());
            // One warning per other network, and none for a single address inside another's
            // range: a border's uplink declared as its organisation's /32 inside its provider's
            // prefix is how reporters there are attributed, not a mistake.
            auto host = [](const Prefix& x) { return x.length == x.address.bits(); };
            for (const auto& other : c.cfg.networks) {
                if (std::find(overlapping.begin(), overlapping.end(), other.id) !=
                    overlapping.end())
                    continue;
                for (const auto& op : other.prefixes)
                    if (op.overlaps(*p) && !host(op) && !host(*p)) {
                        overlapping.push_back(other.id);
                        r.warning(node->source(),
                                  where + ": prefix " + p->str() + " overlaps " + op.str() +
                                      " of network '" + other.id +
                                      "' (expected behind NAT; targets are told apart by "
                                      "network, and ICMP reporters in the overlap are "
                                      "attributed to the longer prefix, then to this site's "
                                      "own network)");
                        break;
                    }
            }
            net.prefixes.push_back(*p);
        }
        net.rate_limit = r.get_positive_number(*t, "rate_limit", where);
        if (auto icmp = r.get_string(*t, "icmp", where)) {
            if (*icmp == "blocked")
                net.icmp_blocked = true;
            else if (*icmp != "open")
                r.error(t->get("icmp")->source(),
                        where + ": icmp " + quote_excerpt(*icmp) + " is not one of open, blocked");
        }
        if (auto a = r.get_string(*t, "appliance", where)) {
            if (auto ep = Endpoint::parse(*a); ep && ep->port != 0)
                net.appliance = *ep;
            else
                r.error(t->get("appliance")->source(),
                        where + ": appliance " + quote_excerpt(*a) +
                            " is not ADDRESS:PORT (the appliance's metrics endpoint, e.g. "
                            "10.31.1.10:9641)");
        }
        if (const toml::node* a = t->get("appliance_address")) {
            bool ok = true;
            if (auto addr = read_address(c, *a, where + ": appliance_address")) {
                net.appliance_address = *addr;
                if (!net.prefixes.empty() &&
                    std::none_of(net.prefixes.begin(), net.prefixes.end(),
                                 [&](const Prefix& p) { return p.contains(*addr); }))
                    r.warning(a->source(), where + ": appliance_address " + addr->str() +
                                               " is outside the network's prefixes");
            } else {
                ok = false;
            }
            if (const toml::table* af = r.get_table(*t, "appliance_addresses_from", where)) {
                for (auto&& [site, node] : *af)
                    if (!read_address(
                            c, node,
                            where + ": appliance_addresses_from." + std::string(site.str())))
                        ok = false;
            }
            if (ok) c.appliance_networks.push_back(t);
        } else if (t->get("appliance_addresses_from")) {
            r.error(t->get("appliance_addresses_from")->source(),
                    where + ": appliance_addresses_from needs appliance_address");
        }
        c.cfg.networks.push_back(std::move(net));
    }
}

void read_services(LoadContext& c, const toml::table& root) {
    TomlReader& r = c.r;
    const toml::table* services = r.get_table(root, "services", "the top level");
    if (!services) return;
    for (auto&& [key, node] : *services) {
        std::string name(key.str());
        std::string where = "service " + quote_excerpt(name);
        const toml::table* t = node.as_table();
        if (!t) {
            r.error(node.source(), where + " must be a table like { proto = \"tcp\", port = 443 }");
            continue;
        }
        std::vector<std::string_view> keys = {"proto", "port", "check"};
        if (auto check = t->get("check");
            check && check->is_string() && kind_index(check->as_string()->get()))
            keys.push_back(Kinds::names[*kind_index(check->as_string()->get())]);
        r.check_keys(*t, keys, where);
        Service svc;
        svc.name = name;
        auto proto = r.get_string(*t, "proto", where);
        if (!proto) {
            if (!t->get("proto")) r.error(t->source(), where + " has no 'proto' (tcp or udp)");
            continue;
        }
        if (*proto == "tcp")
            svc.transport = Transport::tcp;
        else if (*proto == "udp")
            svc.transport = Transport::udp;
        else {
            r.error(t->get("proto")->source(),
                    where + ": proto '" + *proto + "' is not tcp or udp");
            continue;
        }
        auto port = r.get_int(*t, "port", where, 1, 65535);
        if (!port) {
            if (!t->get("port")) r.error(t->source(), where + " has no 'port'");
            continue;
        }
        svc.port = static_cast<std::uint16_t>(*port);
        if (auto check = r.get_string(*t, "check", where)) {
            // The kinds that can check this service: they take a service of its transport and
            // speak its application (kChecksServices), more than the transport's own connect or
            // datagram.
            std::string can;
            for_each_kind([&]<typename K>() {
                if (K::kChecksServices && K::kServices != ServiceUse::none &&
                    std::find(K::kTransports.begin(), K::kTransports.end(), svc.transport) !=
                        K::kTransports.end())
                    can += (can.empty() ? "" : ", ") + std::string(K::kName);
            });
            auto kind = kind_index(*check);
            const bool fits =
                kind && (", " + can + ", ").find(", " + *check + ", ") != std::string::npos;
            if (!fits) {
                r.error(t->get("check")->source(), where + ": check " + quote_excerpt(*check) +
                                                       " is not a kind that checks a " + *proto +
                                                       " service at the application layer (" + can +
                                                       ")");
                continue;
            }
            svc.check = *check;
            // The check's own keys, as a target's [targets.KIND] table holds them.
            visit_kind(*kind, [&]<typename K>() {
                const toml::table* table = r.get_table(*t, K::kName, where);
                if (!table) return;
                KindUse use;
                use.with_service = true;
                OptionReader options(
                    r, *table, where + ": " + std::string(K::kName),
                    [&c](const std::string& id) { return c.cfg.network(id) != nullptr; });
                std::get<Boxed<typename K::Options>>(c.cfg.service_check_options[name]) =
                    K::parse(options, use);
            });
        }
        c.cfg.services[name] = svc;
    }
}

}  // namespace fedprobe
