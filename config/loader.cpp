#include "config/loader.hpp"

#include "config/http_url.hpp"

#include <regex.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

namespace fedprobe {

bool Target::probed_from(const std::string& site) const {
    return from_sites.empty() ||
           std::find(from_sites.begin(), from_sites.end(), site) != from_sites.end();
}

const Target* Config::target(const std::string& id) const {
    for (const auto& t : targets)
        if (t.id == id) return &t;
    return nullptr;
}

const Network* Config::network(const std::string& id) const {
    for (const auto& n : networks)
        if (n.id == id) return &n;
    return nullptr;
}

double Config::rate_limit_for(const std::string& network_id) const {
    const Network* n = network(network_id);
    return n && n->rate_limit ? *n->rate_limit : settings.rate_limit;
}

namespace {

// [a-z0-9][a-z0-9-]*
bool is_id(const std::string& s) {
    if (s.empty() || s[0] == '-') return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
}

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
const std::set<std::string> kReservedLabels = {
    "site", "network", "target",   "probe", "service", "outcome", "reporter", "reporter_network",
    "flow", "job",     "instance", "le",    "phase",   "state",   "version",  "cert"};

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

class Loader {
  public:
    Loader(std::string path, std::optional<std::string> site_override)
        : path_(std::move(path)), site_override_(std::move(site_override)) {
        cfg_.path = path_;
    }

    LoadResult load(const toml::table& root) {
        check_keys(root, {"fedprobe", "networks", "services", "targets", "flows"}, "the top level");
        read_networks(root);
        read_services(root);
        read_settings(root);
        read_targets(root);
        read_flows(root);
        LoadResult result;
        result.diagnostics = std::move(diags_);
        if (!has_errors(result.diagnostics))
            result.config = std::make_shared<const Config>(std::move(cfg_));
        return result;
    }

    void parse_failed(const toml::parse_error& e) {
        add(Diagnostic::Severity::error, e.source().begin.line, e.source().begin.column,
            std::string(e.description()));
    }

    std::vector<Diagnostic> take() { return std::move(diags_); }

  private:
    std::string path_;
    std::optional<std::string> site_override_;
    Config cfg_;
    std::vector<Diagnostic> diags_;
    std::map<std::string, const toml::node*> network_nodes_;

    void add(Diagnostic::Severity s, int line, int column, std::string msg) {
        diags_.push_back(Diagnostic{s, path_, line, column, std::move(msg)});
    }
    void error(const toml::source_region& at, std::string msg) {
        add(Diagnostic::Severity::error, at.begin.line, at.begin.column, std::move(msg));
    }
    void warning(const toml::source_region& at, std::string msg) {
        add(Diagnostic::Severity::warning, at.begin.line, at.begin.column, std::move(msg));
    }

    void check_keys(const toml::table& t, std::initializer_list<std::string_view> allowed,
                    const std::string& where) {
        for (auto&& [key, value] : t) {
            if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
            std::string msg = "unknown key '" + std::string(key.str()) + "' in " + where;
            std::string_view best;
            std::size_t best_distance = 3;
            for (auto candidate : allowed) {
                auto d = edit_distance(key.str(), candidate);
                if (d < best_distance) best = candidate, best_distance = d;
            }
            if (!best.empty()) msg += " (did you mean '" + std::string(best) + "'?)";
            error(key.source(), msg);
        }
    }

    // Typed getters: report a wrong type at the value, return nullopt when absent or wrong.
    std::optional<std::string> get_string(const toml::table& t, std::string_view key,
                                          const std::string& where) {
        const toml::node* n = t.get(key);
        if (!n) return std::nullopt;
        if (auto v = n->value<std::string>(); v && n->is_string()) return v;
        error(n->source(),
              "'" + std::string(key) + "' in " + where + " must be a string, not " + type_name(*n));
        return std::nullopt;
    }

    std::optional<std::int64_t> get_int(const toml::table& t, std::string_view key,
                                        const std::string& where, std::int64_t lo,
                                        std::int64_t hi) {
        const toml::node* n = t.get(key);
        if (!n) return std::nullopt;
        if (!n->is_integer()) {
            error(n->source(), "'" + std::string(key) + "' in " + where +
                                   " must be an integer, not " + type_name(*n));
            return std::nullopt;
        }
        auto v = *n->value<std::int64_t>();
        if (v < lo || v > hi) {
            error(n->source(), "'" + std::string(key) + "' in " + where + " is " +
                                   std::to_string(v) + ", outside " + std::to_string(lo) + ".." +
                                   std::to_string(hi));
            return std::nullopt;
        }
        return v;
    }

    std::optional<double> get_positive_number(const toml::table& t, std::string_view key,
                                              const std::string& where) {
        const toml::node* n = t.get(key);
        if (!n) return std::nullopt;
        if (!n->is_number()) {
            error(n->source(), "'" + std::string(key) + "' in " + where +
                                   " must be a number, not " + type_name(*n));
            return std::nullopt;
        }
        double v = *n->value<double>();
        if (!(v > 0) || !std::isfinite(v)) {
            error(n->source(),
                  "'" + std::string(key) + "' in " + where + " must be greater than 0");
            return std::nullopt;
        }
        return v;
    }

    std::optional<bool> get_bool(const toml::table& t, std::string_view key,
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

    std::optional<Duration> get_duration(const toml::table& t, std::string_view key,
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

    const toml::table* get_table(const toml::table& t, std::string_view key,
                                 const std::string& where) {
        const toml::node* n = t.get(key);
        if (!n) return nullptr;
        if (!n->is_table()) {
            error(n->source(), "'" + std::string(key) + "' in " + where + " must be a table, not " +
                                   type_name(*n));
            return nullptr;
        }
        return n->as_table();
    }

    // An array of tables ([[networks]]); yields nothing and reports when it is something else.
    std::vector<const toml::table*> get_table_array(const toml::table& root, std::string_view key) {
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

    std::vector<std::pair<std::string, const toml::node*>> get_string_array(
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

    bool check_id(const toml::table& t, const std::string& id, const std::string& where) {
        if (is_id(id)) return true;
        error(t.get("id")->source(),
              where + ": id '" + id + "' must match [a-z0-9-]+ (lower case, digits, dashes)");
        return false;
    }

    void read_networks(const toml::table& root) {
        auto tables = get_table_array(root, "networks");
        if (tables.empty() && !root.get("networks")) {
            error(root.source(),
                  "no [[networks]] declared: the federation needs at least this site's network");
        }
        for (const toml::table* t : tables) {
            std::string where = "[[networks]]";
            check_keys(*t, {"id", "kind", "name", "prefixes", "rate_limit"}, where);
            Network net;
            auto id = get_string(*t, "id", where);
            if (!id) {
                if (!t->get("id")) error(t->source(), "[[networks]] entry has no 'id'");
                continue;
            }
            where = "network '" + *id + "'";
            if (!check_id(*t, *id, where)) continue;
            if (network_nodes_.count(*id)) {
                auto first = network_nodes_[*id]->source().begin;
                error(t->get("id")->source(), "duplicate network id '" + *id +
                                                  "' (first declared at line " +
                                                  std::to_string(first.line) + ")");
                continue;
            }
            network_nodes_[*id] = t->get("id");
            net.id = *id;
            if (auto kind = get_string(*t, "kind", where)) {
                if (*kind == "nhs")
                    net.kind = NetworkKind::nhs;
                else if (*kind == "psn")
                    net.kind = NetworkKind::psn;
                else if (*kind == "other")
                    net.kind = NetworkKind::other;
                else
                    error(t->get("kind")->source(),
                          where + ": kind '" + *kind + "' is not one of nhs, psn, other");
            }
            net.name = get_string(*t, "name", where).value_or(net.id);
            for (auto& [text, node] : get_string_array(*t, "prefixes", where)) {
                auto p = Prefix::parse(text);
                if (!p) {
                    error(node->source(), where + ": '" + text +
                                              "' is not an IPv4/IPv6 prefix (e.g. 10.31.0.0/16)");
                    continue;
                }
                if (p->address != Prefix::parse(text.substr(0, text.find('/')))->address)
                    warning(node->source(),
                            where + ": '" + text + "' has host bits set; using " + p->str());
                for (const auto& other : cfg_.networks)
                    for (const auto& op : other.prefixes)
                        if (op.overlaps(*p))
                            warning(node->source(),
                                    where + ": prefix " + p->str() + " overlaps " + op.str() +
                                        " of network '" + other.id +
                                        "' (targets are told apart by network; ICMP reporters in "
                                        "the overlap are attributed to the longer prefix)");
                net.prefixes.push_back(*p);
            }
            net.rate_limit = get_positive_number(*t, "rate_limit", where);
            cfg_.networks.push_back(std::move(net));
        }
    }

    void read_services(const toml::table& root) {
        const toml::table* services = get_table(root, "services", "the top level");
        if (!services) return;
        for (auto&& [key, node] : *services) {
            std::string name(key.str());
            std::string where = "service '" + name + "'";
            const toml::table* t = node.as_table();
            if (!t) {
                error(node.source(),
                      where + " must be a table like { proto = \"tcp\", port = 443 }");
                continue;
            }
            check_keys(*t, {"proto", "port"}, where);
            Service svc;
            svc.name = name;
            auto proto = get_string(*t, "proto", where);
            if (!proto) {
                if (!t->get("proto")) error(t->source(), where + " has no 'proto' (tcp or udp)");
                continue;
            }
            if (*proto == "tcp")
                svc.transport = Transport::tcp;
            else if (*proto == "udp")
                svc.transport = Transport::udp;
            else {
                error(t->get("proto")->source(),
                      where + ": proto '" + *proto + "' is not tcp or udp");
                continue;
            }
            auto port = get_int(*t, "port", where, 1, 65535);
            if (!port) {
                if (!t->get("port")) error(t->source(), where + " has no 'port'");
                continue;
            }
            svc.port = static_cast<std::uint16_t>(*port);
            cfg_.services[name] = svc;
        }
    }

    void read_settings(const toml::table& root) {
        const toml::table* f = get_table(root, "fedprobe", "the top level");
        static const toml::table empty;
        if (!f) f = &empty;
        const std::string where = "[fedprobe]";
        check_keys(*f, {"site", "listen", "interval", "timeout", "rate_limit", "ca_file", "web"},
                   where);
        auto& s = cfg_.settings;
        auto site = get_string(*f, "site", where);
        if (site_override_)
            s.site = *site_override_;
        else if (site)
            s.site = *site;
        if (s.site.empty()) {
            error(f->source(), "no site: set 'site' in [fedprobe] or pass --site");
        } else if (!cfg_.network(s.site)) {
            std::string msg = "site '" + s.site + "' is not a declared network";
            if (site_override_)
                add(Diagnostic::Severity::error, 0, 0, "--site: " + msg);
            else
                error(f->get("site")->source(), msg);
        }
        if (auto listen = get_string(*f, "listen", where)) {
            if (auto ep = Endpoint::parse(*listen); ep && ep->port != 0)
                s.listen = *ep;
            else
                error(f->get("listen")->source(),
                      "listen '" + *listen +
                          "' is not ADDRESS:PORT (e.g. 127.0.0.1:9641 or [::1]:9641)");
        }
        if (auto d = get_duration(*f, "interval", where)) s.interval = *d;
        if (auto d = get_duration(*f, "timeout", where)) s.timeout = *d;
        if (auto r = get_positive_number(*f, "rate_limit", where)) s.rate_limit = *r;
        if (auto ca = get_string(*f, "ca_file", where)) {
            check_readable(*f->get("ca_file"), *ca, where + ": ca_file");
            s.ca_file = *ca;
        }
        if (const toml::table* web = get_table(*f, "web", where)) {
            check_keys(*web, {"basic_auth_users"}, "[fedprobe.web]");
            if (const toml::table* users = get_table(*web, "basic_auth_users", "[fedprobe.web]")) {
                for (auto&& [user, hash] : *users) {
                    auto h = hash.value<std::string>();
                    if (!h || !hash.is_string() || h->size() < 60 ||
                        !(h->starts_with("$2a$") || h->starts_with("$2b$") ||
                          h->starts_with("$2y$"))) {
                        error(hash.source(), "basic_auth_users: the password of '" +
                                                 std::string(user.str()) +
                                                 "' must be a bcrypt hash ($2y$...), e.g. from "
                                                 "htpasswd -nBC 10 USER");
                        continue;
                    }
                    s.web.basic_auth_users[std::string(user.str())] = *h;
                }
            }
        }
    }

    std::optional<IpAddress> read_address(const toml::node& n, const std::string& what) {
        auto text = n.value<std::string>();
        if (!text || !n.is_string()) {
            error(n.source(), what + " must be a string, not " + type_name(n));
            return std::nullopt;
        }
        auto a = IpAddress::parse(*text);
        if (!a) error(n.source(), what + ": '" + *text + "' is not a literal IPv4/IPv6 address");
        return a;
    }

    void read_icmp(const toml::table& t, IcmpOptions& icmp, const std::string& where) {
        check_keys(t, {"packets", "payload_bytes", "df", "ttl", "spacing"}, where);
        if (auto v = get_int(t, "packets", where, 1, 100)) icmp.packets = static_cast<int>(*v);
        // 16 bytes carry fedprobe's token; 1472 keeps a v4 packet within a 1500 MTU unless asked.
        if (auto v = get_int(t, "payload_bytes", where, 16, 65000))
            icmp.payload_bytes = static_cast<int>(*v);
        if (auto v = get_bool(t, "df", where)) icmp.dont_fragment = *v;
        if (auto v = get_int(t, "ttl", where, 1, 255)) icmp.ttl = static_cast<int>(*v);
        if (auto v = get_duration(t, "spacing", where)) icmp.spacing = *v;
    }

    DnsQuery read_dns(const toml::table& t, const std::string& where) {
        check_keys(t, {"name", "type", "rcode", "answers", "answers_from", "answer_regex"}, where);
        DnsQuery q;
        if (auto name = get_string(t, "name", where))
            q.name = *name;
        else if (!t.get("name"))
            error(t.source(), where + " has no 'name' to ask for");
        if (auto type = get_string(t, "type", where)) {
            static const std::set<std::string> types = {"A",   "AAAA", "CNAME", "MX",
                                                        "SRV", "PTR",  "TXT"};
            if (types.count(*type))
                q.type = *type;
            else
                error(t.get("type")->source(),
                      where + ": type '" + *type +
                          "' is not one of A, AAAA, CNAME, MX, SRV, PTR, TXT");
        }
        if (auto rcode = get_string(t, "rcode", where)) {
            static const std::set<std::string> rcodes = {"NOERROR", "NXDOMAIN", "SERVFAIL",
                                                         "REFUSED"};
            if (rcodes.count(*rcode))
                q.rcode = *rcode;
            else
                error(t.get("rcode")->source(),
                      where + ": rcode '" + *rcode +
                          "' is not one of NOERROR, NXDOMAIN, SERVFAIL, REFUSED");
        }
        for (auto& [a, node] : get_string_array(t, "answers", where))
            q.answers.push_back(a);
        if (const toml::table* from = get_table(t, "answers_from", where)) {
            for (auto&& [site, node] : *from) {
                std::string s(site.str());
                if (!cfg_.network(s))
                    error(site.source(), where + ": answers_from names '" + s +
                                             "', which is not a declared network");
                std::vector<std::string> set;
                if (const toml::array* arr = node.as_array()) {
                    for (const auto& item : *arr) {
                        if (auto v = item.value<std::string>(); v && item.is_string())
                            set.push_back(*v);
                        else
                            error(item.source(),
                                  where + ": answers_from." + s + " must hold strings");
                    }
                } else {
                    error(node.source(),
                          where + ": answers_from." + s + " must be an array of strings");
                }
                q.answers_from[s] = std::move(set);
            }
        }
        if (auto re = get_string(t, "answer_regex", where);
            re && check_regex(t, "answer_regex", *re, where))
            q.answer_regex = *re;
        return q;
    }

    // A missing CA file is only a warning: the config may be checked away from the appliance.
    void check_readable(const toml::node& at, const std::string& path, const std::string& what) {
        if (access(path.c_str(), R_OK) != 0)
            warning(at.source(), what + " '" + path + "' cannot be read here: " +
                                     std::strerror(errno) + " (https probes will report error)");
    }

    bool check_regex(const toml::table& t, std::string_view key, const std::string& re,
                     const std::string& where) {
        regex_t compiled;
        int rc = regcomp(&compiled, re.c_str(), REG_EXTENDED | REG_NOSUB);
        if (rc == 0) {
            regfree(&compiled);
            return true;
        }
        char buf[256];
        regerror(rc, &compiled, buf, sizeof buf);
        error(t.get(key)->source(), where + ": " + std::string(key) + " '" + re +
                                        "' is not a regular expression: " + buf);
        return false;
    }

    HttpOptions read_http(const toml::table& t, const std::string& where) {
        check_keys(t,
                   {"url", "host", "path", "tls", "status", "body_regex", "ca_file", "verify",
                    "method", "system_resolver", "client_cert", "client_key"},
                   where);
        HttpOptions h;
        if (auto url = get_string(t, "url", where)) {
            if (std::string why; !parse_http_url(*url, why))
                error(t.get("url")->source(), where + ": url '" + *url + "' " + why);
            h.url = *url;
        }
        if (auto host = get_string(t, "host", where)) {
            if (host->empty() || host->find_first_of("/:@ ") != std::string::npos)
                error(
                    t.get("host")->source(),
                    where + ": host '" + *host + "' is not a host name (e.g. epr.example.nhs.uk)");
            h.host = *host;
        }
        if (auto path = get_string(t, "path", where)) {
            if (!path->starts_with("/"))
                error(t.get("path")->source(), where + ": path '" + *path + "' must start with /");
            h.path = *path;
        }
        h.tls = get_bool(t, "tls", where);
        if (const toml::node* n = t.get("status")) {
            const toml::array* arr = n->as_array();
            if (!arr) error(n->source(), where + ": status must be an array of status codes");
            for (std::size_t i = 0; arr && i < arr->size(); ++i) {
                const toml::node& item = *arr->get(i);
                auto v = item.value<std::int64_t>();
                if (!item.is_integer() || *v < 100 || *v > 599)
                    error(item.source(), where + ": status holds HTTP status codes (100..599)");
                else
                    h.status.push_back(static_cast<int>(*v));
            }
        }
        if (auto re = get_string(t, "body_regex", where);
            re && check_regex(t, "body_regex", *re, where))
            h.body_regex = *re;
        if (auto ca = get_string(t, "ca_file", where)) {
            check_readable(*t.get("ca_file"), *ca, where + ": ca_file");
            h.ca_file = *ca;
        }
        h.verify = get_bool(t, "verify", where).value_or(true);
        for (auto [key, field] :
             {std::pair{"client_cert", &h.client_cert}, std::pair{"client_key", &h.client_key}}) {
            if (auto path = get_string(t, key, where)) {
                check_readable(*t.get(key), *path, where + ": " + key);
                *field = *path;
            }
        }
        if (!h.client_key.empty() && h.client_cert.empty())
            error(t.get("client_key")->source(), where + ": client_key without client_cert");
        if (auto m = get_string(t, "method", where)) {
            if (*m == "GET" || *m == "HEAD")
                h.method = *m;
            else
                error(t.get("method")->source(),
                      where + ": method '" + *m + "' is not GET or HEAD");
        }
        h.system_resolver = get_bool(t, "system_resolver", where).value_or(false);
        return h;
    }

    // Options for a probe the target does not run are ignored; almost always that is a mistake
    // (a typo in `probes`, or `url` given to an http:SERVICE probe), so say so where they are.
    void warn_unused_options(const toml::table& t, const Target& tg, const std::string& where) {
        auto runs = [&](std::string_view kind, int with_service) {  // -1: either form
            return std::any_of(tg.probes.begin(), tg.probes.end(), [&](const ProbeSpec& p) {
                return p.kind == kind &&
                       (with_service < 0 || p.service.empty() == (with_service == 0));
            });
        };
        for (std::string_view kind : {"icmp", "udp", "dns", "http"})
            if (const toml::node* n = t.get(kind); n && !runs(kind, -1))
                warning(n->source(), where + ": '" + std::string(kind) +
                                         "' options are set, but no " + std::string(kind) +
                                         " probe runs; they are ignored");
        const toml::table* http = t.get("http") ? t.get("http")->as_table() : nullptr;
        if (!http || !runs("http", -1)) return;
        if (http->get("url") && !runs("http", 0))
            warning(http->get("url")->source(),
                    where +
                        ": http.url is fetched only by the probe \"http\"; \"http:SERVICE\" "
                        "builds its URL from http.host, http.path and http.tls");
        for (std::string_view key : {"host", "path", "tls"})
            if (http->get(key) && !runs("http", 1))
                warning(http->get(key)->source(),
                        where + ": http." + std::string(key) +
                            " is used only by \"http:SERVICE\" probes; \"http\" fetches http.url");
    }

    void read_targets(const toml::table& root) {
        std::map<std::string, const toml::node*> seen;
        for (const toml::table* t : get_table_array(root, "targets")) {
            std::string where = "[[targets]]";
            check_keys(*t,
                       {"id", "network", "address", "addresses_from", "probes", "interval",
                        "timeout", "labels", "from", "enabled", "source", "device", "dscp", "icmp",
                        "dns", "udp", "http"},
                       where);
            auto id = get_string(*t, "id", where);
            if (!id) {
                if (!t->get("id")) error(t->source(), "[[targets]] entry has no 'id'");
                continue;
            }
            where = "target '" + *id + "'";
            if (!check_id(*t, *id, where)) continue;
            if (seen.count(*id)) {
                error(t->get("id")->source(),
                      "duplicate target id '" + *id + "' (first declared at line " +
                          std::to_string(seen[*id]->source().begin.line) + ")");
                continue;
            }
            seen[*id] = t->get("id");
            Target tg;
            tg.id = *id;
            bool ok = true;

            auto network = get_string(*t, "network", where);
            const Network* net = nullptr;
            if (!network) {
                if (!t->get("network")) error(t->source(), where + " has no 'network'");
                ok = false;
            } else if (!(net = cfg_.network(*network))) {
                error(t->get("network")->source(),
                      where + ": network '" + *network + "' is not declared in [[networks]]");
                ok = false;
            } else {
                tg.network = *network;
            }

            if (const toml::node* a = t->get("address")) {
                if (auto addr = read_address(*a, where + ": address")) {
                    tg.address = *addr;
                    if (net && !net->prefixes.empty() &&
                        std::none_of(net->prefixes.begin(), net->prefixes.end(),
                                     [&](const Prefix& p) { return p.contains(*addr); }))
                        warning(a->source(), where + ": address " + addr->str() +
                                                 " is outside the prefixes of network '" + net->id +
                                                 "'");
                } else {
                    ok = false;
                }
            } else {
                error(t->source(), where + " has no 'address'");
                ok = false;
            }

            if (const toml::table* af = get_table(*t, "addresses_from", where)) {
                for (auto&& [site, node] : *af) {
                    std::string s(site.str());
                    if (!cfg_.network(s))
                        error(site.source(), where + ": addresses_from names '" + s +
                                                 "', which is not a declared network");
                    if (auto addr = read_address(node, where + ": addresses_from." + s)) {
                        if (addr->family != tg.address.family && tg.address.valid())
                            error(node.source(), where + ": addresses_from." + s +
                                                     " is not the same IP version as 'address'");
                        tg.addresses_from[s] = *addr;
                    }
                }
            }

            if (!t->get("probes"))
                error(t->source(), where + " has no 'probes' (e.g. [\"icmp\", \"tcp:https\"])");
            for (auto& [text, node] : get_string_array(*t, "probes", where)) {
                auto spec = parse_probe(text, *node, where);
                if (!spec) continue;
                if (std::find(tg.probes.begin(), tg.probes.end(), *spec) != tg.probes.end()) {
                    error(node->source(), where + ": probe '" + text + "' is listed twice");
                    continue;
                }
                tg.probes.push_back(*spec);
            }

            tg.interval = get_duration(*t, "interval", where).value_or(cfg_.settings.interval);
            tg.timeout = get_duration(*t, "timeout", where).value_or(cfg_.settings.timeout);
            if (tg.timeout >= tg.interval) {
                const toml::node* at = t->get("timeout") ? t->get("timeout") : t->get("interval");
                warning(at ? at->source() : t->source(),
                        where + ": timeout " + format_duration(tg.timeout) +
                            " is not shorter than interval " + format_duration(tg.interval) +
                            "; rounds that time out will skip the next one");
            }

            if (const toml::table* labels = get_table(*t, "labels", where)) {
                for (auto&& [k, v] : *labels) {
                    std::string name(k.str());
                    if (!is_label_name(name) || name.starts_with("__")) {
                        error(k.source(), where + ": label name '" + name +
                                              "' is not a valid Prometheus label name");
                    } else if (kReservedLabels.count(name)) {
                        error(k.source(), where + ": label '" + name +
                                              "' is set by fedprobe itself; choose another name");
                    } else if (auto value = v.value<std::string>(); value && v.is_string()) {
                        tg.labels[name] = *value;
                    } else {
                        error(v.source(), where + ": label '" + name + "' must be a string, not " +
                                              type_name(v));
                    }
                }
                if (tg.labels.size() > 8)
                    warning(labels->source(),
                            where + ": " + std::to_string(tg.labels.size()) +
                                " labels; keep static labels few, every series carries them");
            }

            for (auto& [site, node] : get_string_array(*t, "from", where)) {
                if (!cfg_.network(site))
                    error(node->source(),
                          where + ": from names '" + site + "', which is not a declared network");
                tg.from_sites.push_back(site);
            }
            tg.enabled = get_bool(*t, "enabled", where).value_or(true);

            if (const toml::node* src = t->get("source")) {
                if (auto a = read_address(*src, where + ": source")) {
                    if (tg.address.valid() && a->family != tg.address.family)
                        error(src->source(), where + ": source " + a->str() +
                                                 " is not the same IP version as the address");
                    tg.send.source = a;
                }
            }
            if (auto dev = get_string(*t, "device", where)) {
                if (dev->empty() || dev->size() >= 16 || dev->find('/') != std::string::npos)
                    error(t->get("device")->source(),
                          where + ": device '" + *dev + "' is not an interface name");
                tg.send.device = *dev;
            }
            if (auto v = get_int(*t, "dscp", where, 0, 63)) tg.send.dscp = static_cast<int>(*v);
            if (const toml::table* icmp = get_table(*t, "icmp", where))
                read_icmp(*icmp, tg.icmp, where + ": icmp");
            if (const toml::table* dns = get_table(*t, "dns", where))
                tg.dns = read_dns(*dns, where + ": dns");
            if (const toml::table* udp = get_table(*t, "udp", where)) {
                const std::string uw = where + ": udp";
                check_keys(*udp, {"payload", "expect"}, uw);
                tg.udp.payload = get_string(*udp, "payload", uw).value_or("");
                if (auto re = get_string(*udp, "expect", uw);
                    re && check_regex(*udp, "expect", *re, uw))
                    tg.udp.expect = *re;
            }
            if (const toml::table* http = get_table(*t, "http", where))
                tg.http = read_http(*http, where + ": http");
            warn_unused_options(*t, tg, where);
            for (const auto& p : tg.probes) {
                if (p.kind == "http" && p.service.empty() && tg.http.url.empty()) {
                    error(t->source(), where +
                                           ": probe 'http' needs a url in [targets.http] (or use "
                                           "http:SERVICE to build it from the address)");
                    ok = false;
                }
                if (p.kind == "dns" && !tg.dns) {
                    error(t->source(), where + ": probe '" + p.str() +
                                           "' needs a [targets.dns] table with at least 'name'");
                    ok = false;
                }
            }

            if (ok) cfg_.targets.push_back(std::move(tg));
        }
    }

    void read_flows(const toml::table& root) {
        std::map<std::string, int> ids;  // id -> line
        // (site, target, service) -> (expectation, line): two flows may not disagree
        std::map<std::tuple<std::string, std::string, std::string>, std::pair<Expectation, int>>
            claims;
        for (const toml::table* t : get_table_array(root, "flows")) {
            std::string where = "[[flows]]";
            check_keys(*t, {"id", "from", "to", "service", "expect", "note"}, where);
            Flow f;
            f.line = static_cast<int>(t->source().begin.line);
            bool ok = true;
            if (const toml::node* from = t->get("from")) {
                if (auto one = from->value<std::string>(); one && from->is_string()) {
                    f.from.push_back(*one);
                    if (!cfg_.network(*one)) {
                        error(from->source(),
                              "flow: from names '" + *one + "', which is not a declared network");
                        ok = false;
                    }
                } else {
                    for (auto& [site, node] : get_string_array(*t, "from", where)) {
                        if (!cfg_.network(site)) {
                            error(node->source(), "flow: from names '" + site +
                                                      "', which is not a declared network");
                            ok = false;
                        }
                        f.from.push_back(site);
                    }
                }
            }
            if (f.from.empty()) {
                error(t->source(),
                      "flow has no site in 'from': name the network(s) it starts from");
                ok = false;
            }
            auto to = get_string(*t, "to", where);
            if (!to) {
                if (!t->get("to"))
                    error(t->source(), "flow has no 'to' (a target id or a network id)");
                ok = false;
            } else if (cfg_.target(*to)) {
                f.to = *to;
            } else if (cfg_.network(*to)) {
                f.to = *to;
                f.to_network = true;
            } else {
                error(t->get("to")->source(),
                      "flow: to '" + *to + "' is neither a target nor a network");
                ok = false;
            }
            auto service = get_string(*t, "service", where);
            if (!service) {
                if (!t->get("service")) error(t->source(), "flow has no 'service'");
                ok = false;
            } else if (!cfg_.services.count(*service)) {
                error(t->get("service")->source(),
                      "flow: service '" + *service + "' is not declared in [services]");
                ok = false;
            } else {
                f.service = *service;
            }
            if (auto expect = get_string(*t, "expect", where)) {
                if (*expect == "allow")
                    f.expect = Expectation::allow;
                else if (*expect == "deny")
                    f.expect = Expectation::deny;
                else {
                    error(t->get("expect")->source(),
                          "flow: expect '" + *expect + "' is not allow or deny");
                    ok = false;
                }
            } else if (!t->get("expect")) {
                error(t->source(), "flow has no 'expect' (allow or deny)");
                ok = false;
            }
            f.note = get_string(*t, "note", where).value_or("");
            if (auto id = get_string(*t, "id", where)) {
                if (!check_id(*t, *id, "flow")) ok = false;
                f.id = *id;
            } else if (ok) {  // derived: stable as long as the flow says the same thing
                f.id = f.to + "-" + f.service + "-from";
                for (const auto& site : f.from)
                    f.id += "-" + site;
            }
            if (!ok) continue;
            if (auto seen = ids.find(f.id); seen != ids.end()) {
                error(t->get("id") ? t->get("id")->source() : t->source(),
                      "duplicate flow id '" + f.id + "' (first declared at line " +
                          std::to_string(seen->second) + ")");
                continue;
            }
            ids[f.id] = f.line;
            for (const auto& site : f.from) {
                for (const auto& target : cfg_.targets) {
                    if (f.to_network ? target.network != f.to : target.id != f.to) continue;
                    auto key = std::make_tuple(site, target.id, f.service);
                    auto [it, inserted] = claims.emplace(key, std::make_pair(f.expect, f.line));
                    if (!inserted && it->second.first != f.expect) {
                        error(t->source(), "flow '" + f.id + "' expects " +
                                               (f.expect == Expectation::allow ? "allow" : "deny") +
                                               " for " + site + " -> " + target.id + " " +
                                               f.service + ", but the flow at line " +
                                               std::to_string(it->second.second) +
                                               " expects the opposite");
                        ok = false;
                    }
                }
            }
            if (ok) cfg_.flows.push_back(std::move(f));
        }
    }

    std::optional<ProbeSpec> parse_probe(const std::string& text, const toml::node& node,
                                         const std::string& where) {
        auto colon = text.find(':');
        ProbeSpec spec{text.substr(0, colon),
                       colon == std::string::npos ? "" : text.substr(colon + 1)};
        if (spec.kind ==
            "dns") {  // "dns" alone: udp/53; "dns:SERVICE": that service's transport and port
            if (!spec.service.empty() && !cfg_.services.count(spec.service)) {
                error(node.source(), where + ": probe '" + text + "': service '" + spec.service +
                                         "' is not declared in [services]");
                return std::nullopt;
            }
            return spec;
        }
        if (spec.kind == "icmp") {
            if (!spec.service.empty()) {
                error(node.source(), where + ": probe '" + text + "': icmp takes no service");
                return std::nullopt;
            }
            return spec;
        }
        if (spec.kind == "http") {  // "http": the url; "http:SERVICE": built from the address
            if (spec.service.empty()) return spec;
            auto it = cfg_.services.find(spec.service);
            if (it == cfg_.services.end()) {
                error(node.source(), where + ": probe '" + text + "': service '" + spec.service +
                                         "' is not declared in [services]");
                return std::nullopt;
            }
            if (it->second.transport != Transport::tcp) {
                error(node.source(), where + ": probe '" + text + "': service '" + spec.service +
                                         "' is udp; http runs over tcp");
                return std::nullopt;
            }
            return spec;
        }
        if (spec.kind == "tcp" || spec.kind == "udp") {
            if (spec.service.empty()) {
                error(node.source(), where + ": probe '" + text + "' needs a service, e.g. " +
                                         spec.kind + ":https");
                return std::nullopt;
            }
            auto it = cfg_.services.find(spec.service);
            if (it == cfg_.services.end()) {
                error(node.source(), where + ": probe '" + text + "': service '" + spec.service +
                                         "' is not declared in [services]");
                return std::nullopt;
            }
            const char* want = spec.kind == "tcp" ? "tcp" : "udp";
            if ((it->second.transport == Transport::tcp) != (spec.kind == "tcp")) {
                error(node.source(), where + ": probe '" + text + "': service '" + spec.service +
                                         "' is " +
                                         (it->second.transport == Transport::tcp ? "tcp" : "udp") +
                                         ", not " + want);
                return std::nullopt;
            }
            return spec;
        }
        error(node.source(),
              where + ": probe kind '" + spec.kind + "' is not one of icmp, tcp, udp, dns, http");
        return std::nullopt;
    }
};

}  // namespace

LoadResult load_config_text(std::string_view text, const std::string& path,
                            const std::optional<std::string>& site_override) {
    Loader loader(path, site_override);
    try {
        toml::table root = toml::parse(text, path);
        return loader.load(root);
    } catch (const toml::parse_error& e) {
        loader.parse_failed(e);
        return LoadResult{nullptr, loader.take()};
    }
}

LoadResult load_config_file(const std::string& path,
                            const std::optional<std::string>& site_override) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return LoadResult{
            nullptr,
            {Diagnostic{Diagnostic::Severity::error, path, 0, 0,
                        std::string("cannot read the file: ") + std::strerror(errno)}}};
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    return load_config_text(buf.str(), path, site_override);
}

}  // namespace fedprobe
