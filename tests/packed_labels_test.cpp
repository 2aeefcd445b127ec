#include "exporters/packed_labels.hpp"

#include <doctest/doctest.h>

using namespace fedprobe;
using namespace std::string_literals;

TEST_CASE("packed labels come back sorted, with empty values left out and any byte kept") {
    LabelNames names;
    Labels in = {{"target", "epr"},
                 {"site", "kent-nhs"},
                 {"service", ""},
                 {"role", "a\0b\"c"s},
                 {"network", std::string(300, 'n')}};  // a length that takes two bytes
    PackedLabels packed(in, names);
    auto out = packed.unpack(names);
    REQUIRE(out.size() == 4);
    CHECK(out[0].first == "network");
    CHECK(out[0].second == std::string(300, 'n'));
    CHECK(out[1].first == "role");
    CHECK(out[1].second == "a\0b\"c"s);
    CHECK(out[2].first == "site");
    CHECK(out[3].first == "target");
    CHECK(out[3].second == "epr");
    CHECK(PackedLabels({}, names).unpack(names).empty());
    CHECK(PackedLabels({{"service", ""}}, names).bytes() == 0);
}

TEST_CASE("names are kept once for every series; a series holds indexes and values") {
    LabelNames names;
    std::vector<PackedLabels> series;
    for (int i = 0; i < 1000; ++i)
        series.emplace_back(Labels{{"site", "kent-nhs"},
                                   {"network", "surrey-psn"},
                                   {"target", "t" + std::to_string(i)},
                                   {"probe", "icmp"}},
                            names);
    CHECK(names.size() == 4);
    // 4 names as one byte each, 4 lengths, the values, and the block's own length: no names.
    CHECK(series[7].bytes() == 1 + 8 + 8 + 10 + 2 + 4);
    std::vector<text_exposition::LabelView> views;
    series[999].view(names, views);
    REQUIRE(views.size() == 4);
    CHECK(views[3].first == "target");
    CHECK(views[3].second == "t999");
}

TEST_CASE("packed labels compare by content") {
    LabelNames names;
    Labels a = {{"site", "s"}, {"target", "t"}};
    CHECK(PackedLabels(a, names) == PackedLabels(a, names));
    Labels b = a;
    b["target"] = "u";
    CHECK_FALSE(PackedLabels(a, names) == PackedLabels(b, names));
    b = a;
    b["role"] = "x";
    CHECK_FALSE(PackedLabels(a, names) == PackedLabels(b, names));
    CHECK(PackedLabels({}, names) == PackedLabels({{"x", ""}}, names));
}
