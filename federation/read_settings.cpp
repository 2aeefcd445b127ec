// [fedprobe]: how this appliance runs: its site, listener, timings, and the endpoint's auth,
// TLS and allow list.
#include <algorithm>
#include <set>

#include "config/toml_reader.hpp"
#include "federation/load_context.hpp"

namespace fedprobe {

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

}  // namespace fedprobe
