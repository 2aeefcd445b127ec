// What recvmsg(MSG_ERRQUEUE) hands over: control messages (sock_extended_err and the offender's
// address) and the packet of ours the ICMP error quotes, then what the probes do with them
// (the outcome, and for ping sockets the quoted echo request). The first byte is how many of
// the following bytes are control data; the rest is the quote.
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <span>
#include <vector>

#include "core/socket.hpp"
#include "fuzz/fuzz_target.hpp"
#include "probes/icmp/icmp_packet.hpp"
#include "probes/outcome.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t control_len = std::min<std::size_t>(data[0], size - 1);
    // Exactly as long as the input says, so that a read past it is a sanitizer report.
    std::vector<cmsghdr> storage(control_len / sizeof(cmsghdr) + 1);
    std::memcpy(storage.data(), data + 1, control_len);
    msghdr msg{};
    msg.msg_control = control_len ? storage.data() : nullptr;
    msg.msg_controllen = control_len;
    const std::span<const std::uint8_t> payload(data + 1 + control_len, size - 1 - control_len);
    auto q = fedprobe::parse_error_queue(msg, payload);
    if (!q) return 0;
    (void)fedprobe::outcome_of(*q);
    (void)fedprobe::parse_quoted_request(q->quoted, q->icmp_v6() ? AF_INET6 : AF_INET);
    if (q->offender) (void)q->offender->str();
    return 0;
}
