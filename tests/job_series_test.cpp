#include "exporters/job_series.hpp"

#include <doctest/doctest.h>
#include <prometheus/text_serializer.h>

#include <chrono>

using namespace fedprobe;

TEST_CASE("a job whose labels changed gets new series; one whose labels did not keeps its own") {
    JobSeriesSet set;
    Labels a = {{"site", "s"}, {"target", "t"}, {"probe", "icmp"}};
    auto* first = set.sync({{a}}).at(0);
    REQUIRE(first);
    auto* kept = set.sync({{a, first}}).at(0);
    CHECK(kept == first);
    // Two jobs cannot share a series: the second claim on it gets one of its own.
    auto both = set.sync({{a, kept}, {a, kept}});
    CHECK(both.at(0) == first);
    CHECK(both.at(1) != first);
    CHECK(set.size() == 2);
    a["role"] = "epr";
    auto* relabelled = set.sync({{a, both[0]}}).at(0);
    CHECK(relabelled != nullptr);
    CHECK(set.sync({{{{"target", "t"}}}}).at(0) == nullptr);  // no probe label: not a probe job
    set.sync({{a}});
    CHECK(set.size() == 1);
    auto families = set.Collect();
    REQUIRE_FALSE(families.empty());
    const auto& labels = families[0].metric.at(0).label;
    REQUIRE(labels.size() == 4);
    CHECK(labels[1].name == "role");
}

TEST_CASE("write_text is, byte for byte, what prometheus-cpp makes of Collect(), for every kind") {
    JobSeriesSet set;
    std::vector<JobSeriesSet::Wanted> jobs;
    for_each_kind([&]<typename K>() {
        for (const char* target : {"a", "b\"\\\n"}) {  // a value that needs escaping
            Labels l = {{"site", "kent-nhs"}, {"network", "surrey-psn"},
                        {"target", target},   {"probe", std::string(K::kName)},
                        {"service", ""},      {"role", "pacs"}};
            jobs.push_back({l});
        }
    });
    const auto handles = set.sync(jobs);  // per kind: target a, then target b
    auto text = [&] {
        std::string out;
        set.write_text(out);
        return out;
    };
    auto serialized = [&] { return prometheus::TextSerializer().Serialize(set.Collect()); };
    CHECK(text() == serialized());  // never probed: NaN success, zero counters
    std::size_t i = 0;
    for_each_kind([&]<typename K>() {
        ProbeResult r;
        r.outcome = Outcome::ok;
        r.duration = std::chrono::microseconds(1500);
        r.kind = typename K::Result{};
        set.record(handles.at(2 * i), r, "");
        r.outcome = i % 2 ? Outcome::filtered : Outcome::prohibited;  // last error, reporter
        r.reporter = IpAddress::parse("192.0.2.6");
        set.record(handles.at(2 * i + 1), r, "surrey-psn");
        ++i;
    });
    const std::string served = text();
    CHECK(served == serialized());
    CHECK(served.find("fedprobe_probe_last_error_info{") != std::string::npos);
    CHECK(served.find("target=\"b\\\"\\\\\\n\"") != std::string::npos);
    CHECK(served.find("service=") == std::string::npos);
}
