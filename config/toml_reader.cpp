#include "config/toml_reader.hpp"

#include <regex.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

namespace fedprobe {

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t up = row[j];
            row[j] =
                std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1] ? 1u : 0u)});
            diag = up;
        }
    }
    return row[b.size()];
}

}  // namespace

std::string type_name(const toml::node& n) {
    switch (n.type()) {
        case toml::node_type::table:
            return "a table";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a number";
        case toml::node_type::boolean:
            return "a boolean";
        default:
            return "a date/time";
    }
}

void TomlReader::add(Diagnostic::Severity s, const toml::source_region& at, std::string msg) {
    diags_.push_back(Diagnostic{s, path_, static_cast<int>(at.begin.line),
                                static_cast<int>(at.begin.column), std::move(msg)});
}

void TomlReader::error(const toml::source_region& at, std::string msg) {
    add(Diagnostic::Severity::error, at, std::move(msg));
}

void TomlReader::warning(const toml::source_region& at, std::string msg) {
    add(Diagnostic::Severity::warning, at, std::move(msg));
}

void TomlReader::error_unlocated(std::string msg) {
    diags_.push_back(Diagnostic{Diagnostic::Severity::error, path_, 0, 0, std::move(msg)});
}

bool TomlReader::has_errors() const {
    return fedprobe::has_errors(diags_);
}

void TomlReader::check_keys(const toml::table& t, std::initializer_list<std::string_view> allowed,
                            const std::string& where) {
    check_keys(t, std::vector<std::string_view>(allowed), where);
}

void TomlReader::check_keys(const toml::table& t, const std::vector<std::string_view>& allowed,
                            const std::string& where) {
    for (auto&& [key, value] : t) {
        if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
        std::string msg = "unknown key " + quote_excerpt(key.str()) + " in " + where;
        std::string_view best;
        std::size_t best_distance = 3;
        // A key far longer than any allowed one is no typo of it (and the distance would cost
        // its length times theirs).
        if (key.str().size() <= 2 * kQuotedMax) {
            for (auto candidate : allowed) {
                auto d = edit_distance(key.str(), candidate);
                if (d < best_distance) best = candidate, best_distance = d;
            }
        }
        if (!best.empty()) msg += " (did you mean '" + std::string(best) + "'?)";
        error(key.source(), msg);
    }
}

std::optional<std::string> TomlReader::get_string(const toml::table& t, std::string_view key,
                                                  const std::string& where) {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (auto v = n->value<std::string>(); v && n->is_string()) return v;
    error(n->source(),
          "'" + std::string(key) + "' in " + where + " must be a string, not " + type_name(*n));
    return std::nullopt;
}

std::optional<std::int64_t> TomlReader::get_int(const toml::table& t, std::string_view key,
                                                const std::string& where, std::int64_t lo,
                                                std::int64_t hi) {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (!n->is_integer()) {
        error(n->source(), "'" + std::string(key) + "' in " + where + " must be an integer, not " +
                               type_name(*n));
        return std::nullopt;
    }
    auto v = *n->value<std::int64_t>();
    if (v < lo || v > hi) {
        error(n->source(), "'" + std::string(key) + "' in " + where + " is " + std::to_string(v) +
                               ", outside " + std::to_string(lo) + ".." + std::to_string(hi));
        return std::nullopt;
    }
    return v;
}

std::optional<double> TomlReader::get_positive_number(const toml::table& t, std::string_view key,
                                                      const std::string& where) {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (!n->is_number()) {
        error(n->source(),
              "'" + std::string(key) + "' in " + where + " must be a number, not " + type_name(*n));
        return std::nullopt;
    }
    double v = *n->value<double>();
    if (!(v > 0) || !std::isfinite(v)) {
        error(n->source(), "'" + std::string(key) + "' in " + where + " must be greater than 0");
        return std::nullopt;
    }
    return v;
}

std::optional<bool> TomlReader::get_bool(const toml::table& t, std::string_view key,
                                         const std::string& where) {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (!n->is_boolean()) {
        error(n->source(), "'" + std::string(key) + "' in " + where +
                               " must be true or false, not " + type_name(*n));
        return std::nullopt;
    }
    return *n->value<bool>();
}

std::optional<Duration> TomlReader::get_duration(const toml::table& t, std::string_view key,
                                                 const std::string& where) {
    auto s = get_string(t, key, where);
    if (!s) return std::nullopt;
    auto d = parse_duration(*s);
    if (!d || d->count() <= 0) {
        error(t.get(key)->source(), "'" + std::string(key) + "' in " + where + ": '" + *s +
                                        "' is not a duration (use e.g. 500ms, 15s, 1m30s)");
        return std::nullopt;
    }
    return d;
}

const toml::table* TomlReader::get_table(const toml::table& t, std::string_view key,
                                         const std::string& where) {
    const toml::node* n = t.get(key);
    if (!n) return nullptr;
    if (!n->is_table()) {
        error(n->source(),
              "'" + std::string(key) + "' in " + where + " must be a table, not " + type_name(*n));
        return nullptr;
    }
    return n->as_table();
}

std::vector<const toml::table*> TomlReader::get_table_array(const toml::table& root,
                                                            std::string_view key) {
    std::vector<const toml::table*> out;
    const toml::node* n = root.get(key);
    if (!n) return out;
    const toml::array* arr = n->as_array();
    if (!arr) {
        error(n->source(), "'" + std::string(key) + "' must be an array of tables ([[" +
                               std::string(key) + "]])");
        return out;
    }
    for (const auto& item : *arr) {
        if (auto* t = item.as_table())
            out.push_back(t);
        else
            error(item.source(), "each entry of '" + std::string(key) + "' must be a table");
    }
    return out;
}

std::vector<std::pair<std::string, const toml::node*>> TomlReader::get_string_array(
    const toml::table& t, std::string_view key, const std::string& where) {
    std::vector<std::pair<std::string, const toml::node*>> out;
    const toml::node* n = t.get(key);
    if (!n) return out;
    const toml::array* arr = n->as_array();
    if (!arr) {
        error(n->source(), "'" + std::string(key) + "' in " + where +
                               " must be an array of strings, not " + type_name(*n));
        return out;
    }
    for (const auto& item : *arr) {
        if (auto v = item.value<std::string>(); v && item.is_string())
            out.emplace_back(*v, &item);
        else
            error(item.source(), "'" + std::string(key) + "' in " + where +
                                     " must hold strings, not " + type_name(item));
    }
    return out;
}

bool TomlReader::check_regex(const toml::table& t, std::string_view key, const std::string& re,
                             const std::string& where) {
    regex_t compiled;
    int rc = regcomp(&compiled, re.c_str(), REG_EXTENDED | REG_NOSUB);
    if (rc == 0) {
        regfree(&compiled);
        return true;
    }
    char buf[256];
    regerror(rc, &compiled, buf, sizeof buf);
    error(t.get(key)->source(),
          where + ": " + std::string(key) + " '" + re + "' is not a regular expression: " + buf);
    return false;
}

void TomlReader::check_readable(const toml::node& at, const std::string& file,
                                const std::string& what) {
    if (access(file.c_str(), R_OK) != 0)
        warning(at.source(), what + " " + quote_excerpt(file) + " cannot be read here: " +
                                 std::strerror(errno) + " (https probes will report error)");
}

std::optional<std::string> OptionReader::regex(std::string_view key) {
    auto re = string(key);
    if (re && r_.check_regex(t_, key, *re, where_)) return re;
    return std::nullopt;
}

std::optional<std::string> OptionReader::readable_file(std::string_view key) {
    auto path = string(key);
    if (path) r_.check_readable(*t_.get(key), *path, where_ + ": " + std::string(key));
    return path;
}

void OptionReader::error(std::string_view key, const std::string& msg) {
    const toml::node* n = t_.get(key);
    r_.error(n ? n->source() : t_.source(), msg);
}

void OptionReader::warning(std::string_view key, const std::string& msg) {
    const toml::node* n = t_.get(key);
    r_.warning(n ? n->source() : t_.source(), msg);
}

}  // namespace fedprobe
