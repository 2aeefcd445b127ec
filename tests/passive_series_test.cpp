#include "exporters/passive_series.hpp"

#include <doctest/doctest.h>

#include <map>

using namespace fedprobe;

namespace {

Config federation(std::vector<std::string> network_order) {
    Config c;
    c.settings.site = "kent-nhs";
    std::map<std::string, std::string> prefixes = {{"kent-nhs", "10.31.0.0/16"},
                                                   {"surrey-psn", "198.51.100.128/25"}};
    for (const auto& id : network_order)
        c.networks.push_back(
            Network{id, NetworkKind::other, "", {*Prefix::parse(prefixes[id])}, {}});
    c.services["https"] = Service{"https", Transport::tcp, 443, ""};
    return c;
}

const prometheus::MetricFamily* find(const std::vector<prometheus::MetricFamily>& fs,
                                     const std::string& name) {
    for (const auto& f : fs)
        if (f.name == name) return &f;
    return nullptr;
}

std::string label(const prometheus::ClientMetric& m, const std::string& name) {
    for (const auto& l : m.label)
        if (l.name == name) return l.value;
    return "";
}

double handshakes(const PassiveSeriesSet& set, const std::string& src, const std::string& outcome) {
    auto fs = set.Collect();
    const auto* f = find(fs, "fedprobe_passive_handshakes_total");
    REQUIRE(f);
    for (const auto& m : f->metric)
        if (label(m, "src_network") == src && label(m, "outcome") == outcome)
            return m.counter.value;
    return -1;
}

}  // namespace

TEST_CASE("nothing is rendered until a capture reports") {
    PassiveSeriesSet set;
    CHECK(set.Collect().empty());
}

TEST_CASE("counts are kept by label values, across a reload that renumbers the networks") {
    PassiveSeriesSet set;
    set.set_site("kent-nhs");
    Config a = federation({"kent-nhs", "surrey-psn"});
    PassiveLabels la = PassiveLabels::from_config(a);
    PassiveCounts d;
    auto kent = la.network_of(*IpAddress::parse("10.31.1.1"));
    auto surrey = la.network_of(*IpAddress::parse("198.51.100.148"));
    d.count_handshake(kent, surrey, la.service_of(443), PassiveOutcome::ok);
    d.count_handshake(kent, surrey, la.service_of(443), PassiveOutcome::ok);
    d.observe_handshake_time(kent, surrey, 0.003);
    CaptureHealth health;
    health.interfaces.push_back(CaptureInterfaceState{"eth1", true, 10, 2, 0, ""});
    set.add(d, la, health);
    CHECK(handshakes(set, "kent-nhs", "ok") == 2);
    CHECK(handshakes(set, "kent-nhs", "filtered") == 0);  // every outcome from zero, for increase()

    Config b = federation({"surrey-psn", "kent-nhs"});  // the other order: other indices
    PassiveLabels lb = PassiveLabels::from_config(b);
    PassiveCounts d2;
    d2.count_handshake(lb.network_of(*IpAddress::parse("10.31.1.1")),
                       lb.network_of(*IpAddress::parse("198.51.100.148")), lb.service_of(443),
                       PassiveOutcome::ok);
    set.add(d2, lb, health);
    CHECK(handshakes(set, "kent-nhs", "ok") == 3);
    CHECK(handshakes(set, "surrey-psn", "ok") == -1);

    auto fs = set.Collect();
    const auto* times = find(fs, "fedprobe_passive_handshake_seconds");
    REQUIRE(times);
    REQUIRE(times->metric.size() == 1);
    const auto& h = times->metric[0].histogram;
    CHECK(h.sample_count == 1);
    CHECK(h.bucket.back().cumulative_count == 1);  // +Inf
    CHECK(h.bucket[2].cumulative_count == 0);      // 0.0025
    CHECK(h.bucket[3].cumulative_count == 1);      // 0.005
    const auto* drops = find(fs, "fedprobe_passive_kernel_drops_total");
    REQUIRE(drops);
    CHECK(label(drops->metric[0], "interface") == "eth1");
    CHECK(drops->metric[0].counter.value == 2);

    set.clear();
    CHECK(set.Collect().empty());
}
