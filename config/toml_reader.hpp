// The TOML reader every part of the config shares, the probe kinds' own parsers included:
// typed getters that report a wrong type, a value out of range or an unknown key (with a
// "did you mean" suggestion) at its FILE:LINE:COLUMN, and collect every problem instead of
// stopping at the first. Used on whichever thread loads the config; not shared between threads.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/diagnostic.hpp"
#include "core/duration.hpp"

namespace fedprobe {

class TomlReader {
  public:
    explicit TomlReader(std::string path) : path_(std::move(path)) {}

    const std::string& path() const { return path_; }
    void error(const toml::source_region& at, std::string msg);
    void warning(const toml::source_region& at, std::string msg);
    void error_unlocated(std::string msg);  // a problem with no single place (--site)
    std::vector<Diagnostic> take() { return std::move(diags_); }
    bool has_errors() const;

    // Reports every key of `t` not in `allowed`, suggesting the nearest allowed one.
    void check_keys(const toml::table& t, std::initializer_list<std::string_view> allowed,
                    const std::string& where);
    void check_keys(const toml::table& t, const std::vector<std::string_view>& allowed,
                    const std::string& where);

    // Typed getters: a wrong type is reported at the value; nullopt when absent or wrong.
    std::optional<std::string> get_string(const toml::table& t, std::string_view key,
                                          const std::string& where);
    std::optional<std::int64_t> get_int(const toml::table& t, std::string_view key,
                                        const std::string& where, std::int64_t lo, std::int64_t hi);
    std::optional<double> get_positive_number(const toml::table& t, std::string_view key,
                                              const std::string& where);
    std::optional<bool> get_bool(const toml::table& t, std::string_view key,
                                 const std::string& where);
    std::optional<Duration> get_duration(const toml::table& t, std::string_view key,
                                         const std::string& where);
    const toml::table* get_table(const toml::table& t, std::string_view key,
                                 const std::string& where);
    // An array of tables ([[networks]]); yields nothing and reports when it is something else.
    std::vector<const toml::table*> get_table_array(const toml::table& root, std::string_view key);
    std::vector<std::pair<std::string, const toml::node*>> get_string_array(
        const toml::table& t, std::string_view key, const std::string& where);

    // A POSIX extended regular expression that compiles; reported at the key otherwise.
    bool check_regex(const toml::table& t, std::string_view key, const std::string& re,
                     const std::string& where);
    // A file that cannot be read here is a warning: configs are often checked off the appliance.
    void check_readable(const toml::node& at, const std::string& file, const std::string& what);

  private:
    std::string path_;
    std::vector<Diagnostic> diags_;
    void add(Diagnostic::Severity s, const toml::source_region& at, std::string msg);
};

// "a string", "an integer": for messages.
std::string type_name(const toml::node& n);

// One option table of a target ([targets.icmp], [targets.http], ...) as a probe kind's parser
// sees it: the shared reader bound to that table and its place in messages.
class OptionReader {
  public:
    OptionReader(TomlReader& reader, const toml::table& table, std::string where,
                 std::function<bool(const std::string&)> is_network)
        : r_(reader), t_(table), where_(std::move(where)), is_network_(std::move(is_network)) {}

    const toml::table& table() const { return t_; }
    const std::string& where() const { return where_; }
    TomlReader& reader() { return r_; }
    bool is_network(const std::string& id) const { return is_network_ && is_network_(id); }

    void check_keys(const std::vector<std::string_view>& allowed) {
        r_.check_keys(t_, allowed, where_);
    }
    std::optional<std::string> string(std::string_view key) {
        return r_.get_string(t_, key, where_);
    }
    std::optional<std::int64_t> integer(std::string_view key, std::int64_t lo, std::int64_t hi) {
        return r_.get_int(t_, key, where_, lo, hi);
    }
    std::optional<bool> boolean(std::string_view key) { return r_.get_bool(t_, key, where_); }
    std::optional<Duration> duration(std::string_view key) {
        return r_.get_duration(t_, key, where_);
    }
    const toml::table* table(std::string_view key) { return r_.get_table(t_, key, where_); }
    std::vector<std::pair<std::string, const toml::node*>> strings(std::string_view key) {
        return r_.get_string_array(t_, key, where_);
    }
    // A regular expression at `key` that compiles, or nullopt (reported).
    std::optional<std::string> regex(std::string_view key);
    // A file path at `key`, warned about when it cannot be read here.
    std::optional<std::string> readable_file(std::string_view key);
    // An error or warning at `key` (at the table when the key is absent).
    void error(std::string_view key, const std::string& msg);
    void warning(std::string_view key, const std::string& msg);
    void error_at(const toml::node& n, const std::string& msg) { r_.error(n.source(), msg); }

  private:
    TomlReader& r_;
    const toml::table& t_;
    std::string where_;
    std::function<bool(const std::string&)> is_network_;
};

}  // namespace fedprobe
