// Reads ICMP errors that the kernel queued on a socket (IP_RECVERR / IPV6_RECVERR), so an
// ordinary socket learns the ICMP type, code and the device that sent it without raw sockets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/address.hpp"
#include "probes/outcome.hpp"

namespace fedprobe {

struct QueuedError {
    int err = 0;              // the errno the kernel derived
    std::uint8_t origin = 0;  // SO_EE_ORIGIN_*
    std::uint8_t type = 0;
    std::uint8_t code = 0;
    std::optional<IpAddress> offender;  // the ICMP's source: the router or host that said so
    std::vector<std::uint8_t>
        quoted;  // the original payload the error refers to (datagram sockets)

    bool from_icmp() const;
    Outcome outcome() const;
};

// Turns IP_RECVERR/IPV6_RECVERR on; 0 or errno.
int enable_error_queue(int fd, int family);
// Pops one queued error; nullopt when the queue is empty.
std::optional<QueuedError> read_error_queue(int fd);
// Applies DSCP, device and source address from SendOptions; 0 or errno, with what failed in `what`.
int apply_send_options(int fd, int family, const struct SendOptions& send, const char*& what);
// A non-blocking socket for one probe, with the error queue on and SendOptions applied.
// The socket, or -1 with `error` saying what failed.
int open_probe_socket(int family, int type, int protocol, const struct SendOptions& send,
                      std::string& error);

}  // namespace fedprobe
