// The mesh's clock offsets: recovered exactly from consistent measurements, a poorly measured
// pair corrected by the paths around it, an asymmetry beyond the bounds shown by its loop,
// sites that nothing joins, and one-way delays split by the fitted offsets.
#include "policy/clock_mesh.hpp"

#include <doctest/doctest.h>

#include <cmath>

using namespace fedprobe;

namespace {

// A measurement between sites whose true clocks are `clock`, over paths of one-way delays
// d_forward and d_backward: what STAMP's quickest exchange would say.
OffsetMeasurement measure(const std::string& from, const std::string& to,
                          std::map<std::string, double>& clock, double d_forward,
                          double d_backward) {
    const double offset = clock[to] - clock[from];
    const double raw_forward = d_forward + offset, raw_backward = d_backward - offset;
    const double rtt = d_forward + d_backward;
    return OffsetMeasurement{from, to, to + "-app", (raw_forward - raw_backward) / 2, rtt / 2, rtt};
}

}  // namespace

TEST_CASE("symmetric paths: every offset recovered, every loop closes") {
    std::map<std::string, double> clock = {{"a", 0}, {"b", 0.010}, {"c", -0.005}, {"d", 0.2}};
    std::vector<OffsetMeasurement> ms;
    for (auto x : {"a", "b", "c", "d"})
        for (auto y : {"a", "b", "c", "d"})
            if (std::string(x) != y) ms.push_back(measure(x, y, clock, 0.004, 0.004));
    const MeshFit fit = fit_clock_mesh(ms, "a");
    CHECK(fit.reference == "a");
    CHECK(fit.unreached.empty());
    for (auto& [site, truth] : clock)
        CHECK(fit.offset.at(site) == doctest::Approx(truth).epsilon(1e-9));
    CHECK(fit.loops.size() == 4);  // the triangles of four sites
    for (const auto& l : fit.loops) {
        CHECK(std::abs(l.residual) < 1e-12);
        CHECK(l.consistent());
    }
    for (const auto& p : fit.pairs) {
        CHECK(p.forward == doctest::Approx(0.004));
        CHECK(p.backward == doctest::Approx(0.004));
    }
}

TEST_CASE("one asymmetric pair is corrected by the paths around it") {
    std::map<std::string, double> clock = {{"a", 0}, {"b", 0.003}, {"c", -0.002}, {"d", 0.001}};
    std::vector<OffsetMeasurement> ms;
    for (auto x : {"a", "b", "c", "d"})
        for (auto y : {"a", "b", "c", "d"}) {
            if (std::string(x) == y) continue;
            // a <-> c: 6 ms there, 2 ms back (a congested uplink); everything else symmetric.
            const bool ac = (std::string(x) == "a" && std::string(y) == "c");
            const bool ca = (std::string(x) == "c" && std::string(y) == "a");
            ms.push_back(measure(x, y, clock,
                                 ac   ? 0.006
                                 : ca ? 0.002
                                      : 0.004,
                                 ac   ? 0.002
                                 : ca ? 0.006
                                      : 0.004));
        }
    const double alone = ms[1].offset;  // a -> c measured on its own (ms[0] is a -> b)
    REQUIRE(ms[1].to == "c");
    CHECK(std::abs(alone - clock["c"]) == doctest::Approx(0.002));
    const MeshFit fit = fit_clock_mesh(ms, "a");
    CHECK(std::abs(fit.offset.at("c") - clock["c"]) < std::abs(alone - clock["c"]) / 2);
    // The triangles through a-c no longer close exactly, but within their bounds.
    bool any_open = false;
    for (const auto& l : fit.loops) {
        any_open = any_open || std::abs(l.residual) > 1e-9;
        CHECK(l.consistent());
    }
    CHECK(any_open);
    // Its one-way delays lean the way the asymmetry goes.
    for (const auto& p : fit.pairs)
        if (p.measured.from == "a" && p.measured.to == "c") CHECK(p.forward > p.backward);
}

TEST_CASE("an asymmetry beyond the bounds shows in its loop") {
    std::vector<OffsetMeasurement> ms = {
        {"a", "b", "", 0.000, 0.001, 0.002},
        {"b", "c", "", 0.000, 0.001, 0.002},
        {"c", "a", "", 0.050, 0.001, 0.002},  // a clock that stepped, or a path beyond its bound
    };
    const MeshFit fit = fit_clock_mesh(ms);
    REQUIRE(fit.loops.size() == 1);
    CHECK(fit.loops[0].residual == doctest::Approx(0.05));
    CHECK_FALSE(fit.loops[0].consistent());
}

TEST_CASE("sites that no chain of measurements joins to the reference are named, not placed") {
    std::vector<OffsetMeasurement> ms = {{"a", "b", "", 0.001, 0.001, 0.002},
                                         {"d", "e", "", 0.3, 0.001, 0.002},
                                         {"x", "x", "", 1, 1, 2},   // to itself: ignored
                                         {"a", "c", "", 1, 0, 0}};  // no bound: ignored
    const MeshFit fit = fit_clock_mesh(ms, "a");
    CHECK(fit.offset.at("b") == doctest::Approx(0.001));
    CHECK(fit.unreached == std::vector<std::string>{"d", "e"});
    CHECK_FALSE(fit.offset.count("d"));
    CHECK_FALSE(fit.offset.count("c"));
    CHECK(fit_clock_mesh({}).offset.empty());
}
