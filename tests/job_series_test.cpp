#include "exporters/job_series.hpp"

#include <doctest/doctest.h>

using namespace fedprobe;
using namespace std::string_literals;

TEST_CASE("packed labels come back sorted, with empty values left out and any byte kept") {
    Labels in = {{"target", "epr"},
                 {"site", "kent-nhs"},
                 {"service", ""},
                 {"role", "a\0b\"c"s},
                 {"network", std::string(300, 'n')}};
    auto packed = JobSeriesSet::pack_labels(in);
    auto out = JobSeriesSet::unpack_labels(packed);
    REQUIRE(out.size() == 4);
    CHECK(out[0].name == "network");
    CHECK(out[0].value == std::string(300, 'n'));
    CHECK(out[1].name == "role");
    CHECK(out[1].value == "a\0b\"c"s);
    CHECK(out[2].name == "site");
    CHECK(out[3].name == "target");
    CHECK(out[3].value == "epr");
    CHECK(JobSeriesSet::unpack_labels(JobSeriesSet::pack_labels({})).empty());
}

TEST_CASE("a job whose labels changed gets new series; one whose labels did not keeps its own") {
    JobSeriesSet set;
    Labels a = {{"site", "s"}, {"target", "t"}, {"probe", "icmp"}};
    set.sync({{"t/icmp", a}});
    auto* first = set.find("t/icmp");
    REQUIRE(first);
    set.sync({{"t/icmp", a}});
    CHECK(set.find("t/icmp") == first);
    a["role"] = "epr";
    set.sync({{"t/icmp", a}});
    CHECK(set.find("t/icmp") != nullptr);
    CHECK(set.size() == 1);
    auto families = set.Collect();
    REQUIRE_FALSE(families.empty());
    const auto& labels = families[0].metric.at(0).label;
    REQUIRE(labels.size() == 4);
    CHECK(labels[1].name == "role");
}
