// Whether a DNS answer is what this site should see: the rcode, the exact answer set, or a
// pattern every answer must match. Pure, so split-horizon cases are unit-tested.
#pragma once

#include <string>
#include <vector>

#include "probes/dns/dns_kind.hpp"
#include "probes/outcome.hpp"

namespace fedprobe {

int dns_rcode_from_name(const std::string& name);  // NOERROR 0, SERVFAIL 2, NXDOMAIN 3, REFUSED 5
std::string dns_rcode_name(int rcode);
int dns_type_from_name(
    const std::string& name);  // A 1, CNAME 5, PTR 12, MX 15, TXT 16, AAAA 28, SRV 33

struct DnsCheck {
    Outcome outcome = Outcome::ok;
    std::string detail;
};
DnsCheck check_dns_answer(int rcode, const std::vector<std::string>& answers, const DnsQuery& query,
                          const std::vector<std::string>& expected);

}  // namespace fedprobe
