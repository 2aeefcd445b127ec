// [targets.dns]
#include <set>

#include "config/toml_reader.hpp"
#include "probes/dns/dns_kind.hpp"

namespace fedprobe {

DnsQuery DnsKind::parse(OptionReader& r, const KindUse&) {
    r.check_keys({"name", "type", "rcode", "answers", "answers_from", "answer_regex"});
    const std::string& where = r.where();
    DnsQuery q;
    if (auto name = r.string("name"))
        q.name = *name;
    else if (!r.table().get("name"))
        r.error("name", where + " has no 'name' to ask for");
    if (auto type = r.string("type")) {
        static const std::set<std::string> types = {"A",   "AAAA", "CNAME", "MX",
                                                    "SRV", "PTR",  "TXT"};
        if (types.count(*type))
            q.type = *type;
        else
            r.error("type", where + ": type '" + *type +
                                "' is not one of A, AAAA, CNAME, MX, SRV, PTR, TXT");
    }
    if (auto rcode = r.string("rcode")) {
        static const std::set<std::string> rcodes = {"NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED"};
        if (rcodes.count(*rcode))
            q.rcode = *rcode;
        else
            r.error("rcode", where + ": rcode '" + *rcode +
                                 "' is not one of NOERROR, NXDOMAIN, SERVFAIL, REFUSED");
    }
    for (auto& [a, node] : r.strings("answers"))
        q.answers.push_back(a);
    if (const toml::table* from = r.table("answers_from")) {
        for (auto&& [site, node] : *from) {
            std::string s(site.str());
            if (!r.is_network(s))
                r.reader().error(site.source(), where + ": answers_from names " + quote_excerpt(s) +
                                                    ", which is not a declared network");
            std::vector<std::string> set;
            if (const toml::array* arr = node.as_array()) {
                for (const auto& item : *arr) {
                    if (auto v = item.value<std::string>(); v && item.is_string())
                        set.push_back(*v);
                    else
                        r.error_at(item, where + ": answers_from." + s + " must hold strings");
                }
            } else {
                r.error_at(node, where + ": answers_from." + s + " must be an array of strings");
            }
            q.answers_from[s] = std::move(set);
        }
    }
    q.answer_regex = r.regex("answer_regex").value_or("");
    return q;
}

std::string DnsKind::check(const KindUse&, const DnsQuery* q) {
    if (!q) return "needs a [targets.dns] table with at least 'name'";
    return {};
}

DnsParams DnsKind::params(const DnsQuery* q, JobContext& c) {
    DnsParams p;
    if (q) {
        p.query = *q;
        p.expected = q->answers_for(c.site);
    }
    if (!c.service)
        c.port = 53;
    else
        p.tcp = c.service->transport == Transport::tcp;
    return p;
}

}  // namespace fedprobe
