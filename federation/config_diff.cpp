#include "federation/config_diff.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include <toml++/toml.h>

namespace fedprobe {

namespace {

// Keys whose values are secrets (or hashes of them): a change shows, its value does not.
bool secret(const std::string& key) {
    return key == "basic_auth_users" || key == "web";
}

std::string text_of(const toml::node& n) {
    std::ostringstream out;
    if (const auto* s = n.as_string())
        out << '"' << s->get() << '"';  // as written, without TOML's escaping of plain text
    else
        n.visit([&](const auto& v) { out << toml::toml_formatter{v, toml::format_flags::none}; });
    std::string s = out.str();
    // Inline tables and arrays print over several lines; one line reads better in a diff.
    std::string flat;
    bool space = false;
    for (char c : s) {
        if (c == '\n' || c == ' ' || c == '\t') {
            space = !flat.empty();
            continue;
        }
        if (space) flat += ' ';
        space = false;
        flat += c;
    }
    return flat;
}

// One entry's keys and their values, as text.
std::map<std::string, std::string> keys_of(const toml::table& t) {
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : t)
        out[std::string(k.str())] = text_of(v);
    return out;
}

std::vector<KeyChange> differences(const std::map<std::string, std::string>& before,
                                   const std::map<std::string, std::string>& after) {
    std::set<std::string> keys;
    for (const auto& [k, v] : before)
        keys.insert(k);
    for (const auto& [k, v] : after)
        keys.insert(k);
    std::vector<KeyChange> out;
    for (const auto& k : keys) {
        auto b = before.find(k), a = after.find(k);
        std::string bv = b == before.end() ? "" : b->second, av = a == after.end() ? "" : a->second;
        if (bv == av) continue;
        if (secret(k)) {
            bv = bv.empty() ? "" : "(not shown)";
            av = av.empty() ? "" : "(not shown)";
            if (bv == av) av = "(changed, not shown)";
        }
        out.push_back(KeyChange{k, bv, av});
    }
    return out;
}

// An array of tables keyed by `id`, in file order.
std::vector<std::pair<std::string, const toml::table*>> entries(const toml::table& root,
                                                                const char* name) {
    std::vector<std::pair<std::string, const toml::table*>> out;
    if (const auto* arr = root[name].as_array())
        for (const auto& n : *arr)
            if (const auto* t = n.as_table())
                out.emplace_back(std::string((*t)["id"].value_or(std::string_view{})), t);
    return out;
}

struct Files {
    toml::table before, after;
};

std::string string_at(const toml::table* t, const char* key) {
    return t ? std::string((*t)[key].value_or(std::string_view{})) : "";
}

std::vector<std::string> strings_at(const toml::table* t, const char* key) {
    std::vector<std::string> out;
    if (!t) return out;
    if (const auto* arr = (*t)[key].as_array()) {
        for (const auto& n : *arr)
            if (auto s = n.value<std::string>()) out.push_back(*s);
    } else if (auto s = (*t)[key].value<std::string>()) {
        out.push_back(*s);
    }
    return out;
}

void add_unique(std::vector<std::string>& v, const std::string& s) {
    if (!s.empty() && std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

// The network of a flow's `to`: a network id itself, or a target's network, in either file.
std::string network_of_to(const Files& f, const std::string& to) {
    for (const toml::table* root : {&f.after, &f.before}) {
        for (const auto& [id, t] : entries(*root, "networks"))
            if (id == to) return to;
        for (const auto& [id, t] : entries(*root, "targets"))
            if (id == to) return string_at(t, "network");
    }
    return to;
}

std::vector<std::string> flow_organisations(const Files& f, const toml::table* flow) {
    std::vector<std::string> out;
    for (const auto& s : strings_at(flow, "from"))
        add_unique(out, s);
    add_unique(out, network_of_to(f, string_at(flow, "to")));
    return out;
}

// Diffs one array of tables keyed by id; `orgs` gives an entry's organisations.
template <typename Orgs>
void diff_entries(const Files& f, const char* name, const char* what, Orgs orgs,
                  std::vector<ConfigChange>& out) {
    const auto before = entries(f.before, name), after = entries(f.after, name);
    auto find = [](const auto& list, const std::string& id) -> const toml::table* {
        for (const auto& [i, t] : list)
            if (i == id) return t;
        return nullptr;
    };
    for (const auto& [id, t] : after) {
        const toml::table* was = find(before, id);
        ConfigChange c{what, id, was ? "changed" : "added", {}, {}};
        c.keys =
            differences(was ? keys_of(*was) : std::map<std::string, std::string>{}, keys_of(*t));
        if (c.keys.empty()) continue;
        c.organisations = orgs(t);
        if (was)
            for (const auto& o : orgs(was))
                add_unique(c.organisations, o);
        out.push_back(std::move(c));
    }
    for (const auto& [id, t] : before) {
        if (find(after, id)) continue;
        ConfigChange c{what, id, "removed", orgs(t), {}};
        c.keys = differences(keys_of(*t), {});
        out.push_back(std::move(c));
    }
}

}  // namespace

Result<std::vector<ConfigChange>> diff_configs(std::string_view before, std::string_view after) {
    Files f;
    try {
        f.before = toml::parse(before, std::string("before"));
        f.after = toml::parse(after, std::string("after"));
    } catch (const toml::parse_error& e) {  // toml++ is a library edge
        return Status::error(std::string(*e.source().path) + ":" +
                             std::to_string(e.source().begin.line) + ": " +
                             std::string(e.description()));
    }
    std::vector<ConfigChange> out;
    // The settings every appliance runs ([fedprobe]; `site` is each appliance's own).
    {
        auto settings = [](const toml::table& root) {
            std::map<std::string, std::string> keys;
            if (const auto* t = root["fedprobe"].as_table()) keys = keys_of(*t);
            keys.erase("site");
            return keys;
        };
        ConfigChange c{"settings", "[fedprobe]", "changed", {kEveryAppliance}, {}};
        c.keys = differences(settings(f.before), settings(f.after));
        if (!c.keys.empty()) out.push_back(std::move(c));
    }
    diff_entries(
        f, "networks", "network",
        [](const toml::table* t) { return std::vector<std::string>{string_at(t, "id")}; }, out);
    // Services: a table of name = { proto, port }; they touch the organisations of the flows
    // that use them.
    {
        auto services = [](const toml::table& root) {
            std::map<std::string, std::string> keys;
            if (const auto* t = root["services"].as_table()) keys = keys_of(*t);
            return keys;
        };
        for (const auto& k : differences(services(f.before), services(f.after))) {
            ConfigChange c{"service",
                           k.key,
                           k.before.empty()  ? "added"
                           : k.after.empty() ? "removed"
                                             : "changed",
                           {},
                           {KeyChange{"", k.before, k.after}}};
            for (const toml::table* root : {&f.before, &f.after})
                for (const auto& [id, flow] : entries(*root, "flows"))
                    if (string_at(flow, "service") == k.key)
                        for (const auto& o : flow_organisations(f, flow))
                            add_unique(c.organisations, o);
            out.push_back(std::move(c));
        }
    }
    diff_entries(
        f, "targets", "target",
        [](const toml::table* t) { return std::vector<std::string>{string_at(t, "network")}; },
        out);
    diff_entries(
        f, "flows", "flow", [&](const toml::table* t) { return flow_organisations(f, t); }, out);
    return out;
}

}  // namespace fedprobe
