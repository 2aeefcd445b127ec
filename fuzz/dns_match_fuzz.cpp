// A DNS answer set from the wire against the config's expectations. After two bytes that pick
// the query's type, rcode and pattern, the first line is the expected set (split at commas)
// and each further line one answer.
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_target.hpp"
#include "probes/dns/dns_match.hpp"

namespace {
std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= s.size()) {
        std::size_t end = s.find(sep, start);
        if (end == std::string_view::npos) end = s.size();
        out.emplace_back(s.substr(start, end - start));
        start = end + 1;
    }
    return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);
    auto lines = split(text, '\n');
    // The expectations come from a validated config; the answers come from the wire.
    static const char* kTypes[] = {"A", "AAAA", "CNAME", "MX", "SRV", "PTR", "TXT"};
    fedprobe::DnsQuery query;
    query.name = "epr.surrey-psn.example";
    query.type = kTypes[data[0] % 7];
    query.rcode = (data[0] & 0x80) ? "NXDOMAIN" : "NOERROR";
    if (data[0] & 0x40) query.answer_regex = "^10\\.31\\.[0-9]+\\.[0-9]+$";
    const std::vector<std::string> expected = split(lines.front(), ',');
    const std::vector<std::string> answers(lines.begin() + 1, lines.end());
    (void)fedprobe::check_dns_answer(data[1] % 24, answers, query, expected);
    (void)fedprobe::dns_rcode_name(data[1]);
    (void)fedprobe::dns_rcode_from_name(lines.front());
    (void)fedprobe::dns_type_from_name(lines.front());
    return 0;
}
