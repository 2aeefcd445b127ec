// How a non-blocking TCP connect ended, in the probes' vocabulary: shared by tcp and by the
// application kinds, which begin with the same handshake. Event loop thread (it reads the
// socket's error queue and TCP_INFO).
#pragma once

#include "probes/probe.hpp"

namespace fedprobe {

// The connect on fd ended (writable or failed) with `so_error` (0: connected). Fills r's
// outcome, reporter and detail; on success its duration becomes the kernel's handshake RTT
// when that is a clean sample (no SYN retransmitted).
void judge_connect(int fd, int so_error, const IpAddress& destination, ProbeResult& r);

// The timeout came before the connect ended: an ICMP error queued for a retransmitted SYN
// names its sender, else the SYN was dropped (filtered).
void judge_connect_timeout(int fd, ProbeResult& r);

// Whether a connect the loop had not yet noticed had in fact completed in time: a busy loop may
// reach the deadline before the socket's readiness. `late_by` is how far past the deadline the
// loop runs.
bool connected_in_time(int fd, Duration late_by);

}  // namespace fedprobe
