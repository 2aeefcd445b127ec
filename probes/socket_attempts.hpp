// Probes that use a socket each (tcp, udp): the socket, its deadline and its completion,
// kept on the event loop and closed and reported exactly once. Each socket counts against the
// loop's FdBudget; a probe that finds no descriptor free waits for one and ends as overloaded
// (queued) if its timeout comes first. Waiting probes are served round-robin across destination
// networks, in order within each: a network whose probes hold their sockets until the timeout
// (a silent drop) cannot starve the others. Every socket call and timer goes through the probe's
// Wire (core/wire.hpp), so the fake one in the tests serves it too. Event loop thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <unordered_map>

#include "core/wire.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

class SocketAttempts {
  public:
    // How the probe opens its socket and sends: called by admit() at once, or later from the
    // queue with the request it kept. It must end in watch(), decide_later(), fail_later() or
    // open_failed(), which take over the descriptor.
    using Begin = std::function<void(const ProbeRequest& request, Probe::Done done)>;

    SocketAttempts(Wire& wire, Begin begin);
    ~SocketAttempts();  // closes every socket and cancels every timer; no completion runs
    SocketAttempts(const SocketAttempts&) = delete;
    SocketAttempts& operator=(const SocketAttempts&) = delete;

    struct Attempt {
        TimePoint started;
        Wire::TimerId timer = 0;
        IpAddress destination;
        Probe::Done done;
        std::string expect;  // udp: the pattern a reply must match
        Duration timeout{};
        bool budgeted = false;  // holds one descriptor of the loop's FdBudget
    };

    // Begins the probe now if the budget has a descriptor free and nobody waits before it
    // (the request is not copied), else keeps a copy until one is given back. A probe still
    // waiting at its timeout ends as overloaded (queued): the prober's limit, not the network.
    void admit(const ProbeRequest& request, Probe::Done done);
    // Opening the socket failed with `err`. EMFILE or ENFILE mean the process has fewer
    // descriptors than the budget assumed: the budget shrinks to what is open and the probe
    // waits again, first in line. Any other error fails the probe with `detail`.
    void open_failed(int err, std::string detail, const ProbeRequest& request, Probe::Done done);

    // Watches fd for `events` (on_event) until `timeout` (on_timeout). Should the loop refuse
    // the socket, fd is closed and `done` is scheduled with that error as the result.
    void watch(int fd, Attempt attempt, std::uint32_t events, Duration timeout,
               std::function<void(int fd, std::uint32_t events)> on_event,
               std::function<void(int fd)> on_timeout);
    // An attempt that already has its verdict (a connect or send that failed at once): `decide`
    // runs on the next loop round, never inside start().
    void decide_later(int fd, Attempt attempt, std::function<void(int fd)> decide);

    Attempt* find(int fd);
    void finish(int fd, ProbeResult result);
    // Schedules `done` with an error result without any socket.
    void fail_later(Probe::Done done, std::string detail);
    std::size_t size() const { return attempts_.size(); }
    std::size_t waiting() const { return waiting_.size(); }

  private:
    struct Waiting {
        TimePoint deadline;
        Probe::Done done;
        ProbeRequest request;
        Wire::TimerId timer = 0;
        const void* share = nullptr;  // its destination network (the network's pacer)
    };
    // Takes waiting probe `id` out of its network's turn.
    void leave_share(std::int64_t id, const void* share);

    Wire& wire_;
    Begin begin_;
    std::unordered_map<int, Attempt> attempts_;  // by socket
    std::map<std::int64_t, Waiting> waiting_;    // by id, in admission order
    std::int64_t next_waiting_ = 1;
    // The waiting ids of each destination network, in order, and the networks with probes
    // waiting, in the order they are served next (round-robin).
    std::map<const void*, std::deque<std::int64_t>> shares_;
    std::deque<const void*> turn_;
    // The begin() that is running holds a descriptor not yet given to an Attempt.
    bool holding_ = false;
    TimePoint running_deadline_{};
    std::uint64_t waiter_id_ = 0;

    void run(const ProbeRequest& request, Probe::Done done, TimePoint deadline);
    void wait(const ProbeRequest& request, Probe::Done done, TimePoint deadline, bool first);
    void pump();
};

}  // namespace fedprobe
