// How many descriptors the probes that open one socket per attempt (tcp, udp) may hold at
// once. The process's descriptor limit (RLIMIT_NOFILE) is shared with everything else it does:
// reading the config on a reload, the HTTP server's connections, libcurl, c-ares, the log.
// A config that needs more sockets than the limit allows must make probes wait for a free one
// (and count as overloaded when the wait outlasts their timeout), never fail healthy targets
// with EMFILE or starve a reload of the descriptor it needs to read the file.
//
// Owned by the EventLoop; event loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>

namespace fedprobe {

class FdBudget {
  public:
    static constexpr std::size_t kUnlimited = std::numeric_limits<std::size_t>::max();

    void set_limit(std::size_t limit) { limit_ = limit; }
    std::size_t limit() const { return limit_; }
    std::size_t in_use() const { return in_use_; }

    bool try_take();  // one descriptor for a probe, if the budget has one
    void give();      // one given back: every waiter is told
    // The kernel said EMFILE with `in_use` taken: the real limit is lower than the budget
    // (other parts of the process hold more than foreseen), so the budget shrinks to it.
    void shrink_to_in_use();

    // Runs `wake` after descriptors are given back, until unregistered. Without a defer
    // function (below) it runs inside give(); with one, once per batch of gives, after the
    // callback that gave them, so a waiter may start probes (take descriptors, add or remove
    // waiters) and is never run inside another probe's finish().
    std::uint64_t add_waiter(std::function<void()> wake);
    void remove_waiter(std::uint64_t id);

    // How give() schedules the waiters: the EventLoop that owns the budget passes its defer().
    using Defer = std::function<void(std::function<void()>)>;
    void set_defer(Defer defer) { defer_ = std::move(defer); }

  private:
    void wake_waiters();

    Defer defer_;
    bool wake_pending_ = false;
    std::size_t limit_ = kUnlimited;
    std::size_t in_use_ = 0;
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, std::function<void()>> waiters_;
};

// The descriptors that probes may hold when this process's limit is `soft_limit` and it has
// `open_now` open: the rest less a reserve for the process's own needs (an eighth of the
// limit, between 16 and 256). Zero when nothing is left.
std::size_t probe_descriptor_budget(std::size_t soft_limit, std::size_t open_now);

}  // namespace fedprobe
