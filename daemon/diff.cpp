#include "daemon/diff.hpp"

#include <algorithm>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "config/config_file.hpp"
#include "config/diagnostic.hpp"
#include "federation/config_diff.hpp"
#include "federation/loader.hpp"

namespace fedprobe {

namespace {

std::string sign_of(const std::string& change) {
    return change == "added" ? "+" : change == "removed" ? "-" : "~";
}

std::string one_line(const ConfigChange& c) {
    std::string out = sign_of(c.change) + " " + c.what + " " + c.id;
    if (c.what == "service" && !c.keys.empty()) {  // name = { proto, port }: the value is it all
        const auto& k = c.keys[0];
        return out + ": " +
               (c.change == "added"     ? k.after
                : c.change == "removed" ? k.before
                                        : k.before + " -> " + k.after);
    }
    if (c.change != "changed") return out;
    std::string keys;
    for (const auto& k : c.keys)
        keys += (keys.empty() ? "" : "; ") + k.key + " " +
                (k.before.empty() ? "(none)" : k.before) + " -> " +
                (k.after.empty() ? "(none)" : k.after);
    return out + ": " + keys;
}

std::string table(const std::vector<ConfigChange>& changes, const DiffOptions& o) {
    if (changes.empty()) return o.before + " and " + o.after + " say the same\n";
    // Each organisation with the changes that touch it: every appliance's first, then the
    // networks in the order they first appear.
    std::vector<std::string> orgs;
    std::map<std::string, std::vector<const ConfigChange*>> by_org;
    for (const auto& c : changes) {
        const std::vector<std::string> touched = c.organisations.empty()
                                                     ? std::vector<std::string>{"(no organisation)"}
                                                     : c.organisations;
        for (const auto& org : touched) {
            if (!by_org.contains(org)) orgs.push_back(org);
            by_org[org].push_back(&c);
        }
    }
    std::stable_partition(orgs.begin(), orgs.end(),
                          [](const std::string& s) { return s == kEveryAppliance; });
    std::string out = o.before + " -> " + o.after + ": " + std::to_string(changes.size()) +
                      (changes.size() == 1 ? " change" : " changes") + ", touching " +
                      std::to_string(orgs.size()) +
                      (orgs.size() == 1 ? " organisation" : " organisations") + "\n";
    for (const auto& org : orgs) {
        out += "\n" + org + "\n";
        for (const ConfigChange* c : by_org[org]) {
            out += "  " + one_line(*c) + "\n";
            if (c->change == "added" && c->what != "service")
                for (const auto& k : c->keys)
                    out += "      " + k.key + " = " + k.after + "\n";
        }
    }
    return out;
}

std::string json(const std::vector<ConfigChange>& changes, const Config& before,
                 const Config& after) {
    nlohmann::json j;
    j["version"] = 1;
    j["before"] = {{"path", before.path}, {"sha256", before.sha256}};
    j["after"] = {{"path", after.path}, {"sha256", after.sha256}};
    j["changes"] = nlohmann::json::array();
    for (const auto& c : changes) {
        nlohmann::json keys = nlohmann::json::array();
        for (const auto& k : c.keys)
            keys.push_back(
                {{"key", k.key},
                 {"before", k.before.empty() ? nlohmann::json() : nlohmann::json(k.before)},
                 {"after", k.after.empty() ? nlohmann::json() : nlohmann::json(k.after)}});
        j["changes"].push_back({{"what", c.what},
                                {"id", c.id},
                                {"change", c.change},
                                {"organisations", c.organisations},
                                {"keys", keys}});
    }
    return j.dump(1) + "\n";
}

}  // namespace

int run_diff(const DiffOptions& o) {
    std::string text[2];
    std::shared_ptr<const Config> config[2];
    const std::string* path[2] = {&o.before, &o.after};
    for (int i = 0; i < 2; ++i) {
        auto read = read_config_file(*path[i]);
        if (!read.ok()) {
            std::cerr << "fedprobe diff: " << *path[i] << ": " << read.status().message() << "\n";
            return 2;
        }
        text[i] = std::move(*read);
        // Both must be files an appliance would run: a change board compares valid policies.
        LoadResult loaded = load_config_text(text[i], *path[i], o.site);
        for (const auto& d : loaded.diagnostics)
            if (d.severity == Diagnostic::Severity::error) std::cerr << d.format() << "\n";
        if (!loaded.config) {
            std::cerr << "fedprobe diff: " << *path[i] << " does not validate\n";
            return 2;
        }
        config[i] = loaded.config;
    }
    auto changes = diff_configs(text[0], text[1]);
    if (!changes.ok()) {
        std::cerr << "fedprobe diff: " << changes.status().message() << "\n";
        return 2;
    }
    std::cout << (o.format == "json" ? json(*changes, *config[0], *config[1]) : table(*changes, o));
    return changes->empty() ? 0 : 1;
}

}  // namespace fedprobe
