// [[flows]]: the policy. Each flow says which sites must (or must not) reach a target or a
// network on a service; two flows may not disagree about the same path.
#include <map>
#include <tuple>

#include "federation/load_context.hpp"

namespace fedprobe {

void read_flows(LoadContext& c, const toml::table& root) {
    TomlReader& r = c.r;
    std::map<std::string, int> ids;  // id -> line
    // (site, target, service) -> (expectation, line): two flows may not disagree
    std::map<std::tuple<std::string, std::string, std::string>, std::pair<Expectation, int>> claims;
    for (const toml::table* t : r.get_table_array(root, "flows")) {
        std::string where = "[[flows]]";
        r.check_keys(*t, {"id", "from", "to", "service", "expect", "note"}, where);
        Flow f;
        f.line = static_cast<int>(t->source().begin.line);
        bool ok = true;
        if (const toml::node* from = t->get("from")) {
            if (auto one = from->value<std::string>(); one && from->is_string()) {
                f.from.push_back(*one);
                if (!c.cfg.network(*one)) {
                    r.error(from->source(),
                            "flow: from names '" + *one + "', which is not a declared network");
                    ok = false;
                }
            } else {
                for (auto& [site, node] : r.get_string_array(*t, "from", where)) {
                    if (!c.cfg.network(site)) {
                        r.error(node->source(), "flow: from names " + quote_excerpt(site) +
                                                    ", which is not a declared network");
                        ok = false;
                    }
                    f.from.push_back(site);
                }
            }
        }
        if (f.from.empty()) {
            r.error(t->source(), "flow has no site in 'from': name the network(s) it starts from");
            ok = false;
        }
        auto to = r.get_string(*t, "to", where);
        if (!to) {
            if (!t->get("to"))
                r.error(t->source(), "flow has no 'to' (a target id or a network id)");
            ok = false;
        } else if (c.cfg.target(*to)) {
            f.to = *to;
        } else if (c.cfg.network(*to)) {
            f.to = *to;
            f.to_network = true;
        } else {
            r.error(t->get("to")->source(),
                    "flow: to '" + *to + "' is neither a target nor a network");
            ok = false;
        }
        auto service = r.get_string(*t, "service", where);
        if (!service) {
            if (!t->get("service")) r.error(t->source(), "flow has no 'service'");
            ok = false;
        } else if (!c.cfg.services.count(*service)) {
            r.error(t->get("service")->source(),
                    "flow: service '" + *service + "' is not declared in [services]");
            ok = false;
        } else {
            f.service = *service;
            f.probe = ProbeSpec{c.cfg.services.at(*service).transport == Transport::tcp
                                    ? kind_index_of<TcpKind>()
                                    : kind_index_of<UdpKind>(),
                                *service};
        }
        if (auto expect = r.get_string(*t, "expect", where)) {
            if (*expect == "allow")
                f.expect = Expectation::allow;
            else if (*expect == "deny")
                f.expect = Expectation::deny;
            else {
                r.error(t->get("expect")->source(),
                        "flow: expect '" + *expect + "' is not allow or deny");
                ok = false;
            }
        } else if (!t->get("expect")) {
            r.error(t->source(), "flow has no 'expect' (allow or deny)");
            ok = false;
        }
        // An allow flow is verified at the application layer where its service names a check:
        // an open port is not a working service. A deny flow only asks whether the way is shut.
        if (!f.service.empty() && f.expect == Expectation::allow) {
            const Service& svc = c.cfg.services.at(f.service);
            if (!svc.check.empty()) f.probe.kind = *kind_index(svc.check);
        }
        f.note = r.get_string(*t, "note", where).value_or("");
        if (auto id = r.get_string(*t, "id", where)) {
            if (!check_id(c, *t, *id, "flow")) ok = false;
            f.id = *id;
        } else if (ok) {  // derived: stable as long as the flow says the same thing
            f.id = f.to + "-" + f.service + "-from";
            for (const auto& site : f.from)
                f.id += "-" + site;
        }
        if (!ok) continue;
        if (auto seen = ids.find(f.id); seen != ids.end()) {
            r.error(t->get("id") ? t->get("id")->source() : t->source(),
                    "duplicate flow id " + quote_excerpt(f.id) + " (first declared at line " +
                        std::to_string(seen->second) + ")");
            continue;
        }
        ids[f.id] = f.line;
        for (const auto& site : f.from) {
            for (const auto& target : c.cfg.targets) {
                if (f.to_network ? target.network != f.to : target.id != f.to) continue;
                auto key = std::make_tuple(site, target.id, f.service);
                auto [it, inserted] = claims.emplace(key, std::make_pair(f.expect, f.line));
                if (!inserted && it->second.first != f.expect) {
                    r.error(t->source(), "flow '" + f.id + "' expects " +
                                             (f.expect == Expectation::allow ? "allow" : "deny") +
                                             " for " + site + " -> " + target.id + " " + f.service +
                                             ", but the flow at line " +
                                             std::to_string(it->second.second) +
                                             " expects the opposite");
                    ok = false;
                }
            }
        }
        if (ok) c.cfg.flows.push_back(std::move(f));
    }
}

}  // namespace fedprobe
