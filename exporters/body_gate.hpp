// How many large replies (scrapes, the status page) the web server holds at once. A reply's
// body is built whole and kept until the client has read it, so twenty concurrent scrapes of a
// 36 MB exposition held 749 MiB; the gate bounds that to a byte budget, with at least
// `min_bodies` always let through so that a large site is still served. Requests beyond it
// wait, first come first served, parked by the server (MHD_suspend_connection) until a body is
// freed; small sites, whose bodies fit the budget many times over, never wait.
//
// Threads: any, all calls under one mutex. `park` and `resume` run under it: a release cannot
// hand the slot to a request before it is parked, and a stop cannot overtake a resume that
// is under way (libmicrohttpd aborts when it stops with a connection still parked). They may
// take the server's own locks, which must never be held while calling in here; libmicrohttpd
// frees a response, which releases, outside its locks.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>

namespace fedprobe {

class BodyGate {
  public:
    using Waiter = void*;  // the server's handle on a request (its MHD connection)
    enum class Entry { admitted, parked, refused };

    explicit BodyGate(std::size_t min_bodies = 2, std::size_t byte_budget = 64u << 20)
        : min_bodies_(min_bodies), byte_budget_(byte_budget) {}

    // A request that will build a large body: admitted now, or parked (`park` is called, under
    // the lock, and the request is later handed back by release() already admitted), or refused
    // once the server is stopping.
    Entry enter(Waiter w, const std::function<void()>& park);
    // An admitted request built its body of `bytes`.
    void built(std::size_t bytes);
    // An admitted request is done: its body sent or dropped (`built`: the bytes built() was
    // given), or its connection closed before it built one (nullopt). The waiters admitted in
    // its place are handed to `resume`.
    void release(std::optional<std::size_t> built, const std::function<void(Waiter)>& resume);
    // A parked request whose connection closed before it was admitted.
    void forget(Waiter w);
    // The server stops: nothing more is admitted; every parked waiter goes to `resume` (their
    // next enter() is refused).
    void stop(const std::function<void(Waiter)>& resume);

    std::size_t in_flight() const;
    std::size_t bytes_in_flight() const;
    std::size_t waiting() const;

  private:
    bool room() const;  // under mu_
    mutable std::mutex mu_;
    const std::size_t min_bodies_, byte_budget_;
    std::size_t in_flight_ = 0;  // admitted and not yet released
    std::size_t unbuilt_ = 0;    // of those, the ones still to build their body
    std::size_t bytes_ = 0;      // the bodies built and not yet released
    std::size_t last_body_ = 0;  // the estimate for an unbuilt body: bodies barely change
    std::deque<Waiter> waiting_;
    bool stopping_ = false;
};

}  // namespace fedprobe
