// A queue of their own for the federation's STAMP senders. A spoofed flood from inside an
// allowed network fills the reflector's socket queue, and the kernel then drops a real
// sender's test packets with the flood's, which the sender counts as forward loss that never
// happened on the network. With two sockets bound to the listen address (SO_REUSEPORT), a
// classic BPF program (SO_ATTACH_REUSEPORT_CBPF) sends packets from the federation's
// appliances to the second, which a flood from other addresses cannot fill. A flood that
// spoofs an appliance's own address still shares that queue: the per-source rate limit then
// holds it.
//
// Threads: any; no state.
#pragma once

#include <linux/filter.h>

#include <span>
#include <vector>

#include "core/address.hpp"
#include "core/status.hpp"

namespace fedprobe {

// The most addresses one program tests: a linear test costs each packet up to 9 instructions
// an address (IPv6), and BPF allows 4,096.
inline constexpr std::size_t kMostSteeredSources = 256;

// The program for sockets of `family`: 1 (the second socket of the group) for a packet from
// one of `sources` of that family, else 0. Empty when none is of that family.
std::vector<sock_filter> stamp_steering_program(int family, std::span<const IpAddress> sources);

// Attaches it to `fd`, one of the group's sockets; the error says why.
Status attach_stamp_steering(int fd, const std::vector<sock_filter>& program);

}  // namespace fedprobe
