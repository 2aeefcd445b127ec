// The search for how long an idle TCP session survives the stateful devices on a path: bounds
// kept from the sessions tried (the longest idle survived, the shortest idle cut) and the next
// idle time worth trying, given those already in flight. Pure arithmetic, no sockets: the idle
// probe (idle_probe.hpp) runs the sessions.
//
// The next time tried is, in order: the configured maximum (is anything cut at all?), the
// minimum (is even that cut?), then the geometric middle of the widest gap between the bounds
// and the times in flight, in whole seconds (the kernel's keepalive granularity). The search
// has converged when the gap left is within 20% or a second. A result that contradicts the
// bounds (alive beyond the cut, cut below the survivor) means the path changed: the bounds
// restart from it. Plain value; one thread.
#pragma once

#include <limits>
#include <optional>
#include <span>

namespace fedprobe {

enum class IdleAnswer { alive, silence, reset, server_closed };

class IdleSearch {
  public:
    static constexpr double kInf = std::numeric_limits<double>::infinity();

    IdleSearch() = default;
    IdleSearch(double min_s, double max_s) : min_(min_s), max_(max_s) {}

    // The next idle time to try (s), or nothing when the bounds are tight or every gap is being
    // tried.
    std::optional<double> next(std::span<const double> in_flight) const;
    // A session idle for `idle_s` ended so. `elapsed_s` is when the server closed it
    // (server_closed) or when a reset came (reset: at most idle_s). Returns true when the
    // answer contradicted the bounds, which then restart from it.
    bool record(double idle_s, IdleAnswer answer, double elapsed_s);
    // Try both bounds again (the periodic re-verification).
    void reverify() { verify_lower_ = lower_ > 0, verify_upper_ = upper_ < kInf; }

    bool converged(std::span<const double> in_flight) const {
        return !verifying() && !next(in_flight) && in_flight.empty();
    }
    bool verifying() const { return verify_lower_ || verify_upper_; }
    double lower() const { return lower_; }  // 0: nothing survived yet
    double upper() const { return upper_; }  // kInf: nothing cut yet
    // The server's own idle limit, when it closed a session itself (kInf: never seen).
    double server_limit() const { return server_limit_; }

  private:
    double min_ = 1, max_ = 2;
    double lower_ = 0, upper_ = kInf, server_limit_ = kInf;
    bool verify_lower_ = false, verify_upper_ = false;

    double top() const;  // the highest time worth trying
};

}  // namespace fedprobe
