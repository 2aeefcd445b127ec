#include <doctest/doctest.h>

#include "federation/network_index.hpp"

using namespace fedprobe;

TEST_CASE("reporters are attributed by longest prefix, overlaps included") {
    NetworkIndex idx;
    idx.add(*Prefix::parse("10.0.0.0/8"), "kent-nhs");      // all of 10/8, as N3 used
    idx.add(*Prefix::parse("10.52.0.0/16"), "surrey-psn");  // a council inside the same space
    idx.add(*Prefix::parse("198.51.100.0/24"), "psn-core");
    idx.add(*Prefix::parse("2001:db8:5::/48"), "brighton-psn");
    CHECK(idx.lookup(*IpAddress::parse("10.52.1.1")) == "surrey-psn");
    CHECK(idx.lookup(*IpAddress::parse("10.31.1.1")) == "kent-nhs");
    CHECK(idx.lookup(*IpAddress::parse("198.51.100.1")) == "psn-core");
    CHECK(idx.lookup(*IpAddress::parse("2001:db8:5::1")) == "brighton-psn");
    CHECK(idx.lookup(*IpAddress::parse("203.0.113.1")) == "unknown");
}

TEST_CASE("equal prefixes in two networks: the first declared wins") {
    NetworkIndex idx;
    idx.add(*Prefix::parse("10.10.0.0/16"), "east-sussex-nhs");
    idx.add(*Prefix::parse("10.10.0.0/16"), "west-sussex-nhs");
    CHECK(idx.lookup(*IpAddress::parse("10.10.3.4")) == "east-sussex-nhs");
}

TEST_CASE("from inside an overlapping network, its own prefixes win the tie") {
    Config c;
    c.settings.site = "sussex-nhs";
    c.networks = {
        Network{"surrey-nhs", NetworkKind::nhs, "", {*Prefix::parse("10.10.0.0/16")}, std::nullopt},
        Network{
            "sussex-nhs", NetworkKind::nhs, "", {*Prefix::parse("10.10.0.0/16")}, std::nullopt}};
    CHECK(network_index_for_site(c).lookup(*IpAddress::parse("10.10.1.1")) == "sussex-nhs");
    c.settings.site = "surrey-nhs";
    CHECK(network_index_for_site(c).lookup(*IpAddress::parse("10.10.1.1")) == "surrey-nhs");
}

TEST_CASE("the network that numbers a border's uplink: the provider's range around its /32") {
    NetworkIndex idx;
    idx.add(*Prefix::parse("172.20.3.2/32"), "sussex-nhs");  // the border's uplink address
    idx.add(*Prefix::parse("10.212.0.0/16"), "sussex-nhs");
    idx.add(*Prefix::parse("172.20.0.0/16"), "hscn-exchange");
    CHECK(idx.lookup(*IpAddress::parse("172.20.3.2")) == "sussex-nhs");
    CHECK(idx.lookup_link(*IpAddress::parse("172.20.3.2")) == "hscn-exchange");
    // An address inside its own network only: no other network numbers its link.
    CHECK(idx.lookup_link(*IpAddress::parse("10.212.2.10")) == "unknown");
    CHECK(idx.lookup_link(*IpAddress::parse("203.0.113.1")) == "unknown");
}
