// Raw-socket plumbing for path probes: the kernel filters on the sockets a trace reads through,
// the source address and port a flow traces from. Free functions over file descriptors, called
// on the probing thread by LoopWire (core/loop_wire.hpp) for the path probe; they hold no state.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "core/address.hpp"
#include "core/status.hpp"

namespace fedprobe::raw_sockets {

// Raw TCP sockets see every segment the host receives: keeps only SYN or RST ones (answers to
// SYN probes), in the kernel. IPv4 raw sockets start at the IP header, IPv6 ones at TCP's.
Status filter_syn_or_rst(int fd, int family);
// For a socket that only holds a port or sends: whatever reaches it is dropped in the kernel.
Status filter_all(int fd);
// A non-blocking raw socket, or an error that says CAP_NET_RAW is needed.
Result<int> raw_socket(int family, int protocol);
// The source address the kernel would use towards `destination` (a connected UDP socket's).
Result<IpAddress> route_source(const IpAddress& destination, const std::string& device);
// Binds a socket of `type` to an ephemeral port on every address, so the port is ours: the fd
// (hold it as long as the flow traces from the port) and the port.
Result<std::pair<int, std::uint16_t>> hold_port(int family, int type);

}  // namespace fedprobe::raw_sockets
