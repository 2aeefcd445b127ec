// The process's descriptor limit against what the config needs. At start-up the soft limit
// is raised to the hard one where that is allowed (systemd's unit sets both with
// LimitNOFILE); the probes' FdBudget gets what is left after a reserve; and a config that can
// hold more sockets at once than that gets a warning that says what to set. Event loop thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.hpp"

namespace fedprobe {

struct DescriptorPlan {
    std::size_t soft = 0;  // RLIMIT_NOFILE, after raising
    std::size_t hard = 0;
    std::size_t open_now = 0;  // descriptors open when planned
    std::size_t budget = 0;    // what per-attempt probe sockets (tcp, udp) may hold
};

// Raises the soft limit to the hard limit if it can, and plans the budget.
DescriptorPlan plan_descriptors();

// What the jobs can hold at once: a socket per tcp or udp job (rounds of one job never
// overlap), and the others' (https transfers, dns queries) up to their own caps.
struct SocketNeed {
    std::size_t per_attempt = 0;  // tcp + udp + http (up to its cap): the FdBudget's users
    std::size_t other = 0;        // https, dns, path, icmp
};
SocketNeed sockets_needed(const std::vector<LiveJob*>& jobs);

// A warning when `need` does not fit `plan`, naming the LimitNOFILE that would; else nothing.
std::optional<std::string> descriptor_warning(const DescriptorPlan& plan, const SocketNeed& need);

}  // namespace fedprobe
