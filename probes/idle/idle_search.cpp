#include "probes/idle/idle_search.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace fedprobe {

namespace {

bool flying(std::span<const double> in_flight, double t) {
    return std::find(in_flight.begin(), in_flight.end(), t) != in_flight.end();
}

// Whole seconds: TCP_KEEPIDLE is set in seconds.
double whole(double s) {
    return std::max(1.0, std::round(s));
}

bool tight(double lo, double hi) {
    return hi <= lo * 1.2 || hi - lo <= 1.0;
}

}  // namespace

double IdleSearch::top() const {
    // Sessions longer than the server keeps them idle say nothing about the network.
    return std::min({max_, upper_, server_limit_ * 0.9});
}

std::optional<double> IdleSearch::next(std::span<const double> in_flight) const {
    if (verify_lower_ && !flying(in_flight, lower_)) return lower_;
    if (verify_upper_ && !flying(in_flight, upper_)) return upper_;
    const double hi = top();
    if (hi < min_) return std::nullopt;  // the server closes sooner than the minimum
    if (upper_ == kInf && lower_ < hi && !flying(in_flight, whole(hi))) return whole(hi);
    if (lower_ == 0 && upper_ > min_ && !flying(in_flight, whole(min_))) return whole(min_);
    const double lo = std::max(lower_, min_);
    if (lo >= hi) return std::nullopt;
    std::vector<double> points{lo, hi};
    for (double t : in_flight)
        if (t > lo && t < hi) points.push_back(t);
    std::sort(points.begin(), points.end());
    double best_ratio = 1, best = 0;
    for (std::size_t i = 0; i + 1 < points.size(); ++i) {
        const double a = points[i], b = points[i + 1];
        if (tight(a, b)) continue;
        const double t = whole(std::sqrt(a * b));
        if (t <= a || t >= b || flying(in_flight, t)) continue;
        if (b / a > best_ratio) best_ratio = b / a, best = t;
    }
    if (best == 0) return std::nullopt;
    return best;
}

bool IdleSearch::record(double idle_s, IdleAnswer answer, double elapsed_s) {
    switch (answer) {
        case IdleAnswer::server_closed:
            server_limit_ = std::min(server_limit_, elapsed_s);
            return false;
        case IdleAnswer::alive:
            if (idle_s == lower_) verify_lower_ = false;
            if (idle_s >= upper_) {  // a session outlived the cut: the path changed
                lower_ = idle_s;
                upper_ = kInf;
                verify_upper_ = false;
                return true;
            }
            lower_ = std::max(lower_, idle_s);
            return false;
        case IdleAnswer::silence:
        case IdleAnswer::reset: {
            // A reset that came before the keepalive cut the session when it came.
            const double cut = answer == IdleAnswer::reset ? std::min(idle_s, elapsed_s) : idle_s;
            if (idle_s == upper_) verify_upper_ = false;
            if (cut <= lower_) {  // cut below what survived before
                upper_ = cut;
                lower_ = 0;
                verify_lower_ = false;
                return true;
            }
            upper_ = std::min(upper_, cut);
            return false;
        }
    }
    return false;
}

}  // namespace fedprobe
