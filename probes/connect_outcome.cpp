#include "probes/connect_outcome.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>
#include <string>

namespace fedprobe {

void judge_connect(int fd, int so_error, const IpAddress& destination, ProbeResult& r) {
    socklen_t len = sizeof so_error;
    if (so_error == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0)
        so_error = errno;
    if (so_error == 0) {
        r.outcome = Outcome::ok;
        // The kernel's own handshake RTT excludes our scheduling delay; Karn's rule means it is
        // only a clean sample when the SYN was not retransmitted.
        tcp_info info{};
        socklen_t ilen = sizeof info;
        if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &ilen) == 0 && info.tcpi_rtt > 0 &&
            info.tcpi_total_retrans == 0)
            r.duration = std::chrono::microseconds(info.tcpi_rtt);
    } else if (auto q = read_error_queue(fd); q && q->from_icmp()) {
        r.outcome = outcome_of(*q);
        r.reporter = q->offender;
        r.detail = "icmp type " + std::to_string(q->type) + " code " + std::to_string(q->code);
    } else {
        r.outcome = outcome_from_errno(so_error);
        if (r.outcome == Outcome::refused) r.reporter = destination;
        r.detail = std::strerror(so_error);
    }
}

void judge_connect_timeout(int fd, ProbeResult& r) {
    // An ICMP error may have arrived for a retransmitted SYN without failing the connect.
    if (auto q = read_error_queue(fd); q && q->from_icmp()) {
        r.outcome = outcome_of(*q);
        r.reporter = q->offender;
    } else {
        r.outcome = Outcome::filtered;
        r.detail = "no answer before the timeout";
    }
}

bool connected_in_time(int fd, Duration late_by) {
    pollfd pfd{fd, POLLOUT, 0};
    if (poll(&pfd, 1, 0) != 1) return false;
    tcp_info info{};
    socklen_t ilen = sizeof info;
    // A connect the kernel completed before the deadline is an answer in time, however late the
    // loop notices it; a failed one is an answer too.
    return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &ilen) != 0 ||
           info.tcpi_state != TCP_ESTABLISHED ||
           std::chrono::milliseconds(info.tcpi_last_ack_recv) >= late_by;
}

}  // namespace fedprobe
