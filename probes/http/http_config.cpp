// [targets.http]
#include "config/toml_reader.hpp"
#include "probes/http/http_kind.hpp"

namespace fedprobe {

HttpOptions HttpKind::parse(OptionReader& r, const KindUse& use) {
    r.check_keys({"url", "host", "path", "tls", "status", "body_regex", "ca_file", "verify",
                  "method", "system_resolver", "client_cert", "client_key"});
    const std::string& where = r.where();
    const toml::table& t = r.table();
    HttpOptions h;
    if (auto url = r.string("url")) {
        if (std::string why; !parse_http_url(*url, why))
            r.error("url", where + ": url '" + *url + "' " + why);
        h.url = *url;
    }
    if (auto host = r.string("host")) {
        if (host->empty() || host->find_first_of("/:@ ") != std::string::npos)
            r.error("host",
                    where + ": host '" + *host + "' is not a host name (e.g. epr.example.nhs.uk)");
        h.host = *host;
    }
    if (auto path = r.string("path")) {
        if (!path->starts_with("/"))
            r.error("path", where + ": path '" + *path + "' must start with /");
        h.path = *path;
    }
    h.tls = r.boolean("tls");
    if (const toml::node* n = t.get("status")) {
        const toml::array* arr = n->as_array();
        if (!arr) r.error_at(*n, where + ": status must be an array of status codes");
        for (std::size_t i = 0; arr && i < arr->size(); ++i) {
            const toml::node& item = *arr->get(i);
            auto v = item.value<std::int64_t>();
            if (!item.is_integer() || *v < 100 || *v > 599)
                r.error_at(item, where + ": status holds HTTP status codes (100..599)");
            else
                h.status.push_back(static_cast<int>(*v));
        }
    }
    h.body_regex = r.regex("body_regex").value_or("");
    h.ca_file = r.readable_file("ca_file").value_or("");
    h.verify = r.boolean("verify").value_or(true);
    h.client_cert = r.readable_file("client_cert").value_or("");
    h.client_key = r.readable_file("client_key").value_or("");
    if (!h.client_key.empty() && h.client_cert.empty())
        r.error("client_key", where + ": client_key without client_cert");
    if (auto m = r.string("method")) {
        if (*m == "GET" || *m == "HEAD")
            h.method = *m;
        else
            r.error("method", where + ": method '" + *m + "' is not GET or HEAD");
    }
    h.system_resolver = r.boolean("system_resolver").value_or(false);

    // Options for the other form of the probe are ignored; almost always that is a mistake.
    if (use.any()) {
        if (t.get("url") && !use.plain)
            r.warning("url", where.substr(0, where.rfind(':')) +
                                 ": http.url is fetched only by the probe \"http\"; "
                                 "\"http:SERVICE\" builds its URL from http.host, http.path and "
                                 "http.tls");
        for (std::string_view key : {"host", "path", "tls"})
            if (t.get(key) && !use.with_service)
                r.warning(key, where.substr(0, where.rfind(':')) + ": http." + std::string(key) +
                                   " is used only by \"http:SERVICE\" probes; \"http\" fetches "
                                   "http.url");
    }
    return h;
}

std::string HttpKind::check(const KindUse& use, const HttpOptions* o) {
    if (use.plain && (!o || o->url.empty()))
        return "needs a url in [targets.http] (or use http:SERVICE to build it from the address)";
    return {};
}

std::string http_url_for(const HttpOptions& http, const IpAddress& address,
                         const Service* service) {
    if (!service) return http.url;
    bool tls = http.tls.value_or(service->port != 80 && service->port != 8080);
    std::string host = http.host.empty() ? address.host_str() : http.host;
    return std::string(tls ? "https" : "http") + "://" + host + ":" +
           std::to_string(service->port) + http.path;
}

HttpParams HttpKind::params(const HttpOptions* o, JobContext& c) {
    HttpParams p;
    if (o) p.http = *o;
    p.ca_file = p.http.ca_file.empty() ? c.default_ca_file : p.http.ca_file;
    p.user_agent = std::string("fedprobe/") + FEDPROBE_VERSION + " (site " + c.site + ")";
    p.url = http_url_for(p.http, c.destination, c.service);
    std::string why;  // the loader has reported a url that does not parse
    p.url_parts = parse_http_url(p.url, why).value_or(HttpUrl{});
    return p;
}

}  // namespace fedprobe
