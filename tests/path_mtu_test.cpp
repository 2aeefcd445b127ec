#include <doctest/doctest.h>

#include <algorithm>
#include <functional>

#include "probes/path/path_kind.hpp"
#include "probes/path/path_mtu.hpp"
#include "probes/probe.hpp"

using namespace fedprobe;

namespace {

// A simulated path: packets up to `mtu` arrive; larger ones die at TTL `narrow_ttl` (the router
// before the narrow link), with packet-too-big when `ptb` and silently otherwise. Runs a search
// to its end, answering each probe as that path would.
struct Path {
    int mtu = 1500;
    int narrow_ttl = 2;
    int destination_ttl = 4;
    bool ptb = true;
    IpAddress router = *IpAddress::parse("172.20.1.1");
    // Hops that never answer time-exceeded (a silent exchange).
    std::vector<int> silent_hops;
    // Applied to each probe first: true when it is lost whatever its size.
    std::function<bool(const MtuProbe&)> lost = [](const MtuProbe&) { return false; };
};

PathMtu run(MtuSearch& s, const Path& p, int* stages_out = nullptr) {
    int stages = 0;
    for (auto stage = s.next(); !stage.empty(); stage = s.next()) {
        ++stages;
        REQUIRE(stage.size() <= MtuSearch::kMaxProbes);
        for (std::size_t i = 0; i < stage.size(); ++i) {
            const MtuProbe& probe = stage[i];
            s.count_packet();
            if (p.lost(probe)) {
                s.silent(i);
                continue;
            }
            const bool fits = probe.size <= p.mtu;
            if (probe.ttl) {  // the black-hole stage
                const bool gets_there = fits || probe.ttl <= p.narrow_ttl;
                const bool quiet =
                    std::count(p.silent_hops.begin(), p.silent_hops.end(), probe.ttl);
                if (gets_there && !quiet)
                    s.hop_answered(
                        i, *IpAddress::parse(("10.0.0." + std::to_string(probe.ttl)).c_str()));
                else
                    s.silent(i);
                continue;
            }
            if (fits)
                s.reached(i);
            else if (p.ptb)
                s.too_big(i, p.mtu, p.router);
            else
                s.silent(i);
        }
        REQUIRE(stages < 20);
    }
    if (stages_out) *stages_out = stages;
    CHECK(s.done());
    return s.result();
}

}  // namespace

TEST_CASE("the plateaus: RFC 1191's and the tunnels', largest first") {
    auto p = mtu_plateaus();
    CHECK(std::is_sorted(p.begin(), p.end(), std::greater<>()));
    for (int v : {65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508,  296,
                  68,    1500,  1480,  1472, 1454, 1436, 1420, 1400, 1380, 1280})
        CHECK(std::count(p.begin(), p.end(), v) == 1);
}

TEST_CASE("a path that carries the interface's MTU: one probe, one stage") {
    MtuSearch s(1500, 68, 56, 4);
    Path p;
    int stages = 0;
    auto r = run(s, p, &stages);
    CHECK(r.mtu == 1500);
    CHECK(r.source == PathMtu::Source::search);
    CHECK(r.packets == 1);
    CHECK(stages == 1);
    CHECK_FALSE(r.blackhole);
    CHECK(r.lowest_failed == 0);
}

TEST_CASE("packet-too-big gives the MTU and its reporter in two probes") {
    MtuSearch s(1500, 68, 56, 4);
    Path p;
    p.mtu = 1400;
    auto r = run(s, p);
    CHECK(r.mtu == 1400);
    CHECK(r.source == PathMtu::Source::ptb);
    CHECK(r.reporter == p.router);
    CHECK(r.packets == 2);
    CHECK_FALSE(r.blackhole);
    CHECK(r.lowest_failed == 1401);  // the router's word: nothing larger passes
}

TEST_CASE("silent loss of large packets: a black hole, its size, and the last hop before it") {
    for (int mtu : {1400, 1420, 1438, 1280, 576}) {
        CAPTURE(mtu);
        MtuSearch s(1500, 68, 56, 4);
        Path p;
        p.mtu = mtu;
        p.ptb = false;
        p.narrow_ttl = 2;
        auto r = run(s, p);
        CHECK(r.mtu == mtu);  // plateaus, then refined to the byte
        CHECK(r.source == PathMtu::Source::search);
        CHECK(r.blackhole);
        CHECK(r.blackhole_size == mtu + 1);
        CHECK(r.lowest_failed == mtu + 1);
        CHECK(r.blackhole_ttl == 2);
        CHECK(r.blackhole_hop == *IpAddress::parse("10.0.0.2"));
        CHECK(r.stages <= MtuSearch::kMaxStages + 1);
    }
}

TEST_CASE("the black-hole stage skips silent routers: the last hop that answers is named") {
    MtuSearch s(1500, 68, 56, 5);
    Path p;
    p.mtu = 1400;
    p.ptb = false;
    p.narrow_ttl = 3;
    p.destination_ttl = 5;
    p.silent_hops = {2, 3};  // an exchange that never answers, and the narrow router too
    auto r = run(s, p);
    CHECK(r.blackhole);
    CHECK(r.blackhole_ttl == 1);
    // Nothing on the path answers: ttl 0, still a black hole.
    MtuSearch s2(1500, 68, 56, 3);
    p.silent_hops = {1, 2};
    p.destination_ttl = 3;
    auto r2 = run(s2, p);
    CHECK(r2.blackhole);
    CHECK(r2.blackhole_ttl == 0);
    CHECK_FALSE(r2.blackhole_hop.has_value());
}

TEST_CASE("rate-limited packet-too-big is no black hole") {
    // The router answers only the first too-big probe; the rest of a stage go unanswered.
    MtuSearch s(1500, 68, 56, 4);
    int answered = 0;
    for (auto stage = s.next(); !stage.empty(); stage = s.next())
        for (std::size_t i = 0; i < stage.size(); ++i) {
            if (stage[i].size <= 1400)
                s.reached(i);
            else if (answered++ == 0)
                s.too_big(i, 1400, *IpAddress::parse("172.20.1.1"));
            else
                s.silent(i);
        }
    CHECK(s.result().mtu == 1400);
    CHECK_FALSE(s.result().blackhole);
    // A packet-too-big without a usable value (0, or not below the size) still explains loss.
    MtuSearch s2(1500, 68, 56, 4);
    for (auto stage = s2.next(); !stage.empty(); stage = s2.next())
        for (std::size_t i = 0; i < stage.size(); ++i) {
            if (stage[i].size <= 1400)
                s2.reached(i);
            else if (stage[i].size == 1500)
                s2.too_big(i, 0, *IpAddress::parse("172.20.1.1"));
            else
                s2.silent(i);
        }
    CHECK(s2.result().mtu == 1400);
    CHECK(s2.result().source == PathMtu::Source::search);
    CHECK_FALSE(s2.result().blackhole);
}

TEST_CASE("a second, smaller link that filters packet-too-big is a black hole after the first") {
    // 1500 -> router A says 1420; 1420 then vanishes at a 1400 link beyond, silently.
    MtuSearch s(1500, 68, 56, 5);
    for (auto stage = s.next(); !stage.empty(); stage = s.next())
        for (std::size_t i = 0; i < stage.size(); ++i) {
            const MtuProbe& p = stage[i];
            if (p.ttl) {
                if (p.ttl <= 3)
                    s.hop_answered(i, *IpAddress::parse("10.0.0.3"));
                else
                    s.silent(i);
            } else if (p.size <= 1400) {
                s.reached(i);
            } else if (p.size > 1420) {
                s.too_big(i, 1420, *IpAddress::parse("172.20.1.1"));
            } else {
                s.silent(i);
            }
        }
    CHECK(s.result().mtu == 1400);
    CHECK(s.result().blackhole);
    CHECK(s.result().blackhole_ttl == 3);
}

TEST_CASE("nothing reached: the MTU is unknown and no black hole is claimed") {
    MtuSearch s(1500, 68, 0, 4);
    for (auto stage = s.next(); !stage.empty(); stage = s.next())
        for (std::size_t i = 0; i < stage.size(); ++i)
            s.silent(i);
    CHECK(s.result().mtu == 0);
    CHECK_FALSE(s.result().blackhole);
}

TEST_CASE("every size lost, only the trace's small probes through: unknown, not a black hole") {
    // CI under load: a 44-byte trace reached the destination, then every MTU probe (68 bytes
    // up) was lost, and the search said "the path MTU is 44 bytes: a black hole".
    MtuSearch s(1500, 68, 44, 4);
    Path p;
    p.lost = [](const MtuProbe& probe) { return probe.ttl == 0; };
    auto r = run(s, p);
    CHECK(r.mtu == 0);
    CHECK_FALSE(r.blackhole);
    // Where 68 bytes got through and the rest vanished, the hole is real.
    MtuSearch t(1500, 68, 44, 4);
    Path q;
    q.mtu = 68;
    q.ptb = false;
    r = run(t, q);
    CHECK(r.mtu == 68);
    CHECK(r.blackhole);
}

TEST_CASE("IPv6 never searches below 1280; loopback-sized MTUs are capped at 65535") {
    MtuSearch s(1500, 1280, 60, 4);
    for (auto stage = s.next(); !stage.empty(); stage = s.next())
        for (std::size_t i = 0; i < stage.size(); ++i) {
            CHECK(stage[i].size >= 1280);
            s.silent(i);
        }
    MtuSearch big(65536, 68, 56, 1);
    auto stage = big.next();
    REQUIRE(stage.size() == 1);
    CHECK(stage[0].size == 65535);
    big.reached(0);
    CHECK(big.next().empty());
    CHECK(big.result().mtu == 65535);
}

TEST_CASE(
    "one lost probe of a fitting size is retried by the caller; a lost plateau only lowers "
    "the answer to the next plateau, never claims a hole above a size that arrived") {
    MtuSearch s(1500, 68, 56, 4);
    Path p;
    p.mtu = 1500;
    p.lost = [](const MtuProbe& probe) { return probe.size == 1500 && probe.ttl == 0; };
    auto r = run(s, p);
    // 1500 vanished (every attempt): the search settles on the largest size that arrived.
    CHECK(r.mtu == 1499);
    CHECK(r.blackhole);  // indistinguishable from a hole at 1500, and reported as one
    CHECK(r.blackhole_size == 1500);
}

namespace {

// The value of fedprobe_path_blackhole the path series exports, or -1 when it has none.
double exported_blackhole(const KindSeries& series) {
    struct Writer : SeriesWriter {
        double v = -1;
        void value(std::initializer_list<ExtraLabel>, double x) override { v = x; }
        void histogram(std::initializer_list<ExtraLabel>, const HistogramSnapshot&) override {}
    } w;
    for (std::size_t f = 0; f < PathKind::kFamilies.size(); ++f)
        if (std::string_view(PathKind::kFamilies[f].name) == "fedprobe_path_blackhole")
            series.render(f, w);
    return w.v;
}

ProbeResult searched(int mtu, bool blackhole) {
    PathResult p;
    p.flows.push_back(FlowTrace{});
    PathMtu m;
    m.mtu = mtu;
    m.blackhole = blackhole;
    p.mtu = m;
    ProbeResult r;
    r.outcome = Outcome::ok;
    r.kind = p;
    return r;
}

}  // namespace

TEST_CASE("the series exports a black hole once two searches in a row find one") {
    auto series = PathKind::make_series();
    series->record(searched(1500, false));
    CHECK(exported_blackhole(*series) == 0);
    series->record(searched(507, true));  // one search that lost every large probe
    CHECK(exported_blackhole(*series) == 0);
    series->record(searched(1500, false));
    CHECK(exported_blackhole(*series) == 0);
    series->record(searched(1400, true));
    CHECK(exported_blackhole(*series) == 0);
    series->record(searched(1400, true));  // the second in a row: a hole
    CHECK(exported_blackhole(*series) == 1);
    series->record(searched(1500, false));  // gone at once
    CHECK(exported_blackhole(*series) == 0);
    auto fresh = PathKind::make_series();
    fresh->record(searched(1400, true));
    CHECK(exported_blackhole(*fresh) == -1);  // nothing exported before a confirmed result
}
