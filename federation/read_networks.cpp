// [[networks]], [services] and [fedprobe]: what the federation is made of and how this
// appliance runs.
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

// Go's TLS 1.2 AEAD suite names, as exporter-toolkit takes them (crypto/tls): the ones a
// GnuTLS priority string can say. Go ignores the list for TLS 1.3, and so does this.
static bool known_cipher_suite(const std::string& name) {
    static const std::set<std::string> kKnown = {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                                                 "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                                                 "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
                                                 "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                                                 "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
                                                 "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
                                                 "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                                                 "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"};
    return kKnown.count(name) != 0;
}

void read_web_tls(LoadContext& c, const toml::table& t) {
    TomlReader& r = c.r;
    const std::string where = "[fedprobe.web.tls]";
    r.check_keys(t,
                 {"cert_file", "key_file", "client_auth_type", "client_ca_file", "min_version",
                  "cipher_suites"},
                 where);
    WebTlsConfig w;
    bool ok = true;
    for (auto [key, field] : {std::pair{"cert_file", &WebTlsConfig::cert_file},
                              std::pair{"key_file", &WebTlsConfig::key_file},
                              std::pair{"client_ca_file", &WebTlsConfig::client_ca_file}}) {
        if (auto v = r.get_string(t, key, where)) {
            r.check_readable(*t.get(key), *v, where + ": " + key);
            w.*field = *v;
        }
    }
    if (w.cert_file.empty() || w.key_file.empty()) {
        r.error(t.source(), where + " needs both cert_file and key_file (PEM)");
        ok = false;
    }
    if (auto a = r.get_string(t, "client_auth_type", where)) {
        if (*a == "NoClientCert")
            w.client_auth = ClientAuth::none;
        else if (*a == "RequireAnyClientCert")
            w.client_auth = ClientAuth::require_any;
        else if (*a == "VerifyClientCertIfGiven")
            w.client_auth = ClientAuth::verify_if_given;
        else if (*a == "RequireAndVerifyClientCert")
            w.client_auth = ClientAuth::require_and_verify;
        else {
            r.error(t.get("client_auth_type")->source(),
                    where + ": client_auth_type " + quote_excerpt(*a) +
                        " is not NoClientCert, RequireAnyClientCert, VerifyClientCertIfGiven or "
                        "RequireAndVerifyClientCert");
            ok = false;
        }
    }
    if ((w.client_auth == ClientAuth::verify_if_given ||
         w.client_auth == ClientAuth::require_and_verify) &&
        w.client_ca_file.empty()) {
        r.error(t.source(), where +
                                ": client_auth_type verifies client certificates, so it "
                                "needs client_ca_file");
        ok = false;
    }
    if (auto v = r.get_string(t, "min_version", where)) {
        if (*v == "TLS13")
            w.tls13_only = true;
        else if (*v != "TLS12") {
            r.error(t.get("min_version")->source(),
                    where + ": min_version " + quote_excerpt(*v) + " is not TLS12 or TLS13");
            ok = false;
        }
    }
    for (auto& [name, node] : r.get_string_array(t, "cipher_suites", where)) {
        if (!known_cipher_suite(name)) {
            r.error(node->source(), where + ": cipher_suites: " + quote_excerpt(name) +
                                        " is not a TLS 1.2 AEAD suite by Go's name (e.g. "
                                        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)");
            ok = false;
            continue;
        }
        w.cipher_suites.push_back(name);
    }
    if (ok) c.cfg.settings.web.tls = w;
}

void read_settings(LoadContext& c, const toml::table& root) {
    TomlReader& r = c.r;
    const toml::table* f = r.get_table(root, "fedprobe", "the top level");
    static const toml::table empty;
    if (!f) f = &empty;
    const std::string where = "[fedprobe]";
    r.check_keys(*f,
                 {"site", "listen", "interval", "timeout", "rate_limit", "ca_file", "web",
                  "capture", "stamp"},
                 where);
    auto& s = c.cfg.settings;
    auto site = r.get_string(*f, "site", where);
    if (c.site_override)
        s.site = *c.site_override;
    else if (site)
        s.site = *site;
    if (s.site.empty() && f == &empty) {
        // No [fedprobe] table to point at: the top of the file is where one goes.
        r.error(toml::source_region{{1, 1}, {1, 1}, nullptr},
                "no site: there is no [fedprobe] table; add one with site = \"NETWORK-ID\" or "
                "pass --site");
    } else if (s.site.empty()) {
        const toml::node* at = f->get("site");
        r.error(at ? at->source() : f->source(),
                at ? "no site: 'site' in [fedprobe] is empty; name a network or pass --site"
                   : "no site: set 'site' in [fedprobe] or pass --site");
    } else if (!c.cfg.network(s.site)) {
        std::string msg = "site " + quote_excerpt(s.site) + " is not a declared network";
        if (c.site_override)
            r.error_unlocated("--site: " + msg);
        else
            r.error(f->get("site")->source(), msg);
    }
    if (auto listen = r.get_string(*f, "listen", where)) {
        if (auto ep = Endpoint::parse(*listen); ep && ep->port != 0)
            s.listen = *ep;
        else
            r.error(f->get("listen")->source(),
                    "listen " + quote_excerpt(*listen) +
                        " is not ADDRESS:PORT (e.g. 127.0.0.1:9641 or [::1]:9641)");
    }
    if (auto d = r.get_duration(*f, "interval", where)) s.interval = *d;
    if (auto d = r.get_duration(*f, "timeout", where)) s.timeout = *d;
    if (auto rate = r.get_positive_number(*f, "rate_limit", where)) s.rate_limit = *rate;
    if (auto ca = r.get_string(*f, "ca_file", where)) {
        r.check_readable(*f->get("ca_file"), *ca, where + ": ca_file");
        s.ca_file = *ca;
    }
    if (const toml::table* web = r.get_table(*f, "web", where)) {
        r.check_keys(*web, {"basic_auth_users", "tls", "allow"}, "[fedprobe.web]");
        const toml::table* tls = r.get_table(*web, "tls", "[fedprobe.web]");
        if (tls) read_web_tls(c, *tls);
        for (auto& [text, node] : r.get_string_array(*web, "allow", "[fedprobe.web]")) {
            auto prefix = Prefix::parse(text);
            if (!prefix) {
                r.error(node->source(), "[fedprobe.web] allow: " + quote_excerpt(text) +
                                            " is not an address or prefix (e.g. 10.20.0.5 or "
                                            "10.20.0.0/24)");
                continue;
            }
            if (!tls && prefix->address.family == AF_INET6) {
                r.error(node->source(),
                        "[fedprobe.web] allow: " + quote_excerpt(text) +
                            " is IPv6, and the plain-HTTP listener (Debian 12's civetweb) can "
                            "filter IPv4 clients only: serve TLS ([fedprobe.web.tls]) for it");
                continue;
            }
            s.web.allow.push_back(*prefix);
        }
        if (const toml::table* users = r.get_table(*web, "basic_auth_users", "[fedprobe.web]")) {
            for (auto&& [user, hash] : *users) {
                auto h = hash.value<std::string>();
                if (!h || !hash.is_string() || h->size() < 60 ||
                    !(h->starts_with("$2a$") || h->starts_with("$2b$") || h->starts_with("$2y$"))) {
                    r.error(hash.source(), "basic_auth_users: the password of '" +
                                               std::string(user.str()) +
                                               "' must be a bcrypt hash ($2y$...), e.g. from "
                                               "htpasswd -nBC 10 USER");
                    continue;
                }
                s.web.basic_auth_users[std::string(user.str())] = *h;
            }
        }
    }
    read_capture(c, *f);
    read_stamp_reflector(c, *f);
}

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
