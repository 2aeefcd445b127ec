#include "probes/dns/dns_match.hpp"

#include <regex.h>

#include <algorithm>

namespace fedprobe {

int dns_rcode_from_name(const std::string& name) {
    if (name == "NOERROR") return 0;
    if (name == "SERVFAIL") return 2;
    if (name == "NXDOMAIN") return 3;
    if (name == "REFUSED") return 5;
    return -1;
}

std::string dns_rcode_name(int rcode) {
    switch (rcode) {
        case 0:
            return "NOERROR";
        case 1:
            return "FORMERR";
        case 2:
            return "SERVFAIL";
        case 3:
            return "NXDOMAIN";
        case 4:
            return "NOTIMP";
        case 5:
            return "REFUSED";
        default:
            return "RCODE" + std::to_string(rcode);
    }
}

int dns_type_from_name(const std::string& name) {
    if (name == "A") return 1;
    if (name == "CNAME") return 5;
    if (name == "PTR") return 12;
    if (name == "MX") return 15;
    if (name == "TXT") return 16;
    if (name == "AAAA") return 28;
    if (name == "SRV") return 33;
    return 1;
}

namespace {
std::string joined(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    std::string out;
    for (const auto& s : v)
        out += (out.empty() ? "" : ", ") + s;
    return "[" + out + "]";
}
}  // namespace

DnsCheck check_dns_answer(int rcode, const std::vector<std::string>& answers, const DnsQuery& query,
                          const std::vector<std::string>& expected) {
    const int want = dns_rcode_from_name(query.rcode);
    if (rcode != want)
        return {Outcome::mismatch, "rcode " + dns_rcode_name(rcode) + ", expected " + query.rcode};
    if (!expected.empty()) {
        auto a = answers, e = expected;
        std::sort(a.begin(), a.end());
        std::sort(e.begin(), e.end());
        a.erase(std::unique(a.begin(), a.end()), a.end());
        e.erase(std::unique(e.begin(), e.end()), e.end());
        if (a != e)
            return {Outcome::mismatch,
                    "answers " + joined(answers) + ", expected " + joined(expected)};
    }
    if (!query.answer_regex.empty()) {
        regex_t re;
        if (regcomp(&re, query.answer_regex.c_str(), REG_EXTENDED | REG_NOSUB) != 0)
            return {Outcome::error, "answer_regex does not compile"};
        bool all = !answers.empty();
        for (const auto& a : answers)
            all = all && regexec(&re, a.c_str(), 0, nullptr, 0) == 0;
        regfree(&re);
        if (!all)
            return {Outcome::mismatch, "answers " + joined(answers) + " do not all match /" +
                                           query.answer_regex + "/"};
    }
    return {Outcome::ok, ""};
}

}  // namespace fedprobe
