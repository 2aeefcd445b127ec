#include "daemon/fd_limit.hpp"

#include <dirent.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>

#include "probes/kinds.hpp"

namespace fedprobe {
namespace {

std::size_t count_open_descriptors() {
    DIR* d = opendir("/proc/self/fd");
    if (!d) return 64;  // no /proc: assume a generous number
    std::size_t n = 0;
    while (dirent* e = readdir(d))
        if (e->d_name[0] != '.') ++n;
    closedir(d);
    return n > 0 ? n - 1 : 0;  // less opendir's own
}

}  // namespace

DescriptorPlan plan_descriptors() {
    DescriptorPlan p;
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        p.soft = p.hard = 1024;
    } else {
        if (rl.rlim_cur < rl.rlim_max) {
            rlimit raised = rl;
            raised.rlim_cur = rl.rlim_max;
            // Refused under the unit's seccomp filter (@resources), where LimitNOFILE has set
            // the limit already; then the current one stands.
            if (setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
        }
        p.soft = rl.rlim_cur == RLIM_INFINITY ? 1 << 20 : static_cast<std::size_t>(rl.rlim_cur);
        p.hard = rl.rlim_max == RLIM_INFINITY ? 1 << 20 : static_cast<std::size_t>(rl.rlim_max);
    }
    p.open_now = count_open_descriptors();
    p.budget = probe_descriptor_budget(p.soft, p.open_now);
    return p;
}

SocketNeed sockets_needed(const std::vector<LiveJob*>& jobs) {
    // What each kind says a job of it holds (its kSockets), summed per kind and capped where
    // the kind's probe caps itself.
    constexpr auto kUse = [] {
        std::array<SocketUse, kKindCount> out{};
        for_each_kind([&]<typename K>() { out[kind_index_of<K>()] = K::kSockets; });
        return out;
    }();
    std::array<std::size_t, kKindCount> budget{};
    SocketNeed need;
    for (const LiveJob* lj : jobs) {
        const std::size_t kind = lj->job.request.params.index();
        budget[kind] += kUse[kind].budget;
        need.other += kUse[kind].own;
    }
    for (std::size_t k = 0; k < kKindCount; ++k)
        need.per_attempt += kUse[k].cap ? std::min(budget[k], kUse[k].cap) : budget[k];
    // The shared sockets of icmp, path and stamp, the HTTP server, the log and the loop.
    need.other += 32;
    return need;
}

std::optional<std::string> descriptor_warning(const DescriptorPlan& plan, const SocketNeed& need) {
    if (need.per_attempt <= plan.budget &&
        need.per_attempt + need.other + plan.open_now <= plan.soft)
        return std::nullopt;
    // The smallest limit whose budget holds every socket at once, rounded up to a round number.
    std::size_t want = need.per_attempt + need.other + plan.open_now;
    while (probe_descriptor_budget(want, plan.open_now) < need.per_attempt + need.other)
        want += 64;
    want = (want + 1023) / 1024 * 1024;
    return "the config can hold " + std::to_string(need.per_attempt) +
           " tcp/udp sockets at once (and about " + std::to_string(need.other) +
           " others), but the descriptor limit (RLIMIT_NOFILE " + std::to_string(plan.soft) +
           ", hard " + std::to_string(plan.hard) + ") leaves " + std::to_string(plan.budget) +
           " for them: probes beyond that wait for a free socket and count as overloaded "
           "(reason \"queued\"), never as failures. Set LimitNOFILE=" +
           std::to_string(want) + " (or ulimit -n " + std::to_string(want) + ")";
}

}  // namespace fedprobe
