// Clock offsets of the federation's appliances, estimated jointly over the mesh of STAMP
// measurements between them. Each appliance measures, towards each other one, the other's
// clock minus its own from its quickest exchange, true within half that exchange's round trip
// (path asymmetry hides in that half). Weighted least squares over every pair fits one offset
// per site (the reference at 0), so a pair measured badly is corrected by the paths around it;
// what is left around each triangle of sites says how far the measurements agree: a loop whose
// residual exceeds its bound has asymmetric paths (or a clock that moved). What no mesh can
// tell apart: an asymmetry that is the same around every loop looks like a clock offset.
// Pure functions; any thread.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace fedprobe {

// One appliance's measurement of another: offset = clock(to) - clock(from), |error| bound.
struct OffsetMeasurement {
    std::string from, to;
    std::string target;  // which of `to`'s targets was measured (a label; may be empty)
    double offset = 0;
    double error = 0;  // > 0
    double rtt = 0;    // the exchange's round trip (2 x error for a STAMP measurement)
};

struct MeshFit {
    std::string reference;
    std::map<std::string, double> offset;  // per site, relative to the reference
    std::map<std::string, double> error;   // the least-squares error of each (the bounds as sigmas)
    std::vector<std::string> unreached;    // sites no chain of measurements joins to the reference
    struct Pair {
        OffsetMeasurement measured;
        double fitted = 0;    // offset(to) - offset(from)
        double residual = 0;  // measured - fitted
        // One-way delays with the fitted offsets, bounded by what the exchange allows:
        // forward + backward = rtt, each at least 0.
        double forward = 0, backward = 0, delay_error = 0;
    };
    std::vector<Pair> pairs;
    struct Loop {
        std::vector<std::string> sites;  // a triangle a -> b -> c -> a
        double residual = 0;             // sum of measured offsets around it (0 if consistent)
        double bound = 0;                // sum of their error bounds
        bool consistent() const { return residual <= bound && -residual <= bound; }
    };
    std::vector<Loop> loops;
};

// reference: the site whose clock is 0 (empty: the first by name). Measurements with an error
// of 0 or less, or from a site to itself, are ignored.
MeshFit fit_clock_mesh(const std::vector<OffsetMeasurement>& measurements,
                       std::string reference = "");

}  // namespace fedprobe
