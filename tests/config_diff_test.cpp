// fedprobe diff's comparison (federation/config_diff.hpp): what counts as a change, key by key,
// and which organisations each touches.
#include <doctest/doctest.h>

#include <string>

#include "federation/config_diff.hpp"

using namespace fedprobe;

namespace {

const std::string kBefore = R"([fedprobe]
site = "kent-nhs"
interval = "10s"

[[networks]]
id = "kent-nhs"
prefixes = ["10.31.0.0/16"]

[[networks]]
id = "kent-psn"
prefixes = ["198.51.100.0/25"]

[services]
https = { proto = "tcp", port = 443 }
mllp = { proto = "tcp", port = 2575 }

[[targets]]
id = "kent-nhs-svc"
network = "kent-nhs"
address = "10.31.2.10"
probes = ["tcp:https", "tcp:mllp"]

[[flows]]
id = "councils-to-kent-nhs-mllp"
from = ["kent-psn"]
to = "kent-nhs-svc"
service = "mllp"
expect = "allow"
)";

std::vector<ConfigChange> diff(const std::string& after) {
    auto r = diff_configs(kBefore, after);
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    return *r;
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("the same policy: comments, whitespace, order and the site are not changes") {
    CHECK(diff(kBefore).empty());
    CHECK(diff("# approved 2026-12-01\n" + kBefore + "\n\n").empty());
    CHECK(diff(replaced(kBefore, "site = \"kent-nhs\"", "site = \"kent-psn\"")).empty());
    CHECK(
        diff(
            replaced(
                kBefore,
                "https = { proto = \"tcp\", port = 443 }\nmllp = { proto = \"tcp\", port = 2575 }",
                "mllp = { port = 2575, proto = \"tcp\" }\nhttps = { proto = \"tcp\", port = 443 }"))
            .empty());
}

TEST_CASE("a flow changed: its key, before and after, under its sources and destination") {
    auto changes = diff(replaced(kBefore, "expect = \"allow\"", "expect = \"deny\""));
    REQUIRE(changes.size() == 1);
    const auto& c = changes[0];
    CHECK(c.what == "flow");
    CHECK(c.id == "councils-to-kent-nhs-mllp");
    CHECK(c.change == "changed");
    CHECK(c.organisations == std::vector<std::string>{"kent-psn", "kent-nhs"});
    REQUIRE(c.keys.size() == 1);
    CHECK(c.keys[0].key == "expect");
    CHECK(c.keys[0].before == "\"allow\"");
    CHECK(c.keys[0].after == "\"deny\"");
}

TEST_CASE("added and removed entries, a service by the flows that use it, the settings") {
    std::string after = replaced(kBefore, "interval = \"10s\"", "interval = \"5s\"");
    after = replaced(after, "mllp = { proto = \"tcp\", port = 2575 }",
                     "mllp = { proto = \"tcp\", port = 2576 }");
    after =
        replaced(after, "[[targets]]\nid = \"kent-nhs-svc\"", "[[targets]]\nid = \"kent-nhs-epr\"");
    after += R"(
[[networks]]
id = "brighton-psn"
prefixes = ["203.0.113.0/24"]
)";
    auto changes = diff(after);
    REQUIRE(changes.size() == 5);
    CHECK(changes[0].what == "settings");
    CHECK(changes[0].organisations == std::vector<std::string>{kEveryAppliance});
    CHECK(changes[0].keys[0].key == "interval");
    CHECK(changes[1].what == "network");
    CHECK(changes[1].id == "brighton-psn");
    CHECK(changes[1].change == "added");
    CHECK(changes[1].keys.size() == 2);  // every key of an added entry
    CHECK(changes[2].what == "service");
    CHECK(changes[2].id == "mllp");
    CHECK(changes[2].keys[0].after == "{ port = 2576, proto = \"tcp\" }");
    CHECK(changes[2].organisations == std::vector<std::string>{"kent-psn", "kent-nhs"});
    CHECK(changes[3].what == "target");
    CHECK(changes[3].id == "kent-nhs-epr");
    CHECK(changes[3].change == "added");
    CHECK(changes[4].id == "kent-nhs-svc");
    CHECK(changes[4].change == "removed");
    CHECK(changes[4].organisations == std::vector<std::string>{"kent-nhs"});
}

TEST_CASE("secrets show as changed, never their values; a file that is not TOML is an error") {
    std::string before =
        replaced(kBefore, "interval = \"10s\"",
                 "interval = \"10s\"\nweb = { basic_auth_users = { p = \"$2y$a\" } }");
    std::string after = replaced(before, "$2y$a", "$2y$b");
    auto r = diff_configs(before, after);
    REQUIRE(r.ok());
    REQUIRE(r->size() == 1);
    CHECK(r->at(0).keys[0].before == "(not shown)");
    CHECK(r->at(0).keys[0].after == "(changed, not shown)");
    auto bad = diff_configs(kBefore, "this is = = not toml");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.status().message().find("after:1") != std::string::npos);
}
