// What a probe job's result should be (policy/expectation.hpp): the target's `expect`, the
// policy's deny flow over the same site, target and service, or success; and the loader's
// error for an expectation it does not know.
#include <doctest/doctest.h>

#include "engine/jobs.hpp"
#include "federation/loader.hpp"
#include "policy/expectation.hpp"

using namespace fedprobe;

namespace {

const char* kConfig = R"([fedprobe]
site = "kent-psn"
[[networks]]
id = "kent-psn"
[[networks]]
id = "kent-nhs"
[services]
https = { proto = "tcp", port = 443 }
rdp = { proto = "tcp", port = 3389 }
[[targets]]
id = "epr"
network = "kent-nhs"
address = "10.31.2.10"
probes = ["icmp", "tcp:https", "tcp:rdp", "path:rdp"]
[[targets]]
id = "expired"
network = "kent-nhs"
address = "10.31.2.11"
probes = ["tcp:rdp", "http"]
http = { url = "https://10.31.2.11/" }
expect = "tls_error"
[[targets]]
id = "broken"
network = "kent-nhs"
address = "10.31.2.12"
probes = ["http"]
http = { url = "https://10.31.2.12/" }
expect = "fail"
[[targets]]
id = "no-icmp"
network = "kent-nhs"
address = "10.31.2.13"
probes = ["icmp", "tcp:https"]
expect = { icmp = "filtered" }
[[flows]]
id = "no-rdp"
from = ["kent-psn"]
to = "kent-nhs"
service = "rdp"
expect = "deny"
)";

const Job& find(const std::vector<Job>& jobs, const std::string& key) {
    for (const auto& j : jobs)
        if (j.key() == key) return j;
    FAIL("no job " << key);
    return jobs.front();
}

}  // namespace

TEST_CASE("a job's expected result: the target's declaration, the policy's deny flow, success") {
    auto r = load_config_text(kConfig, "t.toml", std::nullopt);
    for (const auto& d : r.diagnostics)
        MESSAGE(d.format());
    REQUIRE(r.config);
    const auto jobs = build_jobs(*r.config);
    using K = ExpectedResult::Kind;

    const Job& icmp = find(jobs, "epr/icmp");
    CHECK(expected_result(icmp).kind == K::success);
    CHECK(expected_because(icmp).empty());
    CHECK(expected_result(find(jobs, "epr/tcp:https")).kind == K::success);

    // The policy denies rdp from kent-psn into kent-nhs: tcp and path of rdp are expected to be
    // stopped, as the flow is judged (filtered or prohibited complies; refused does not).
    for (const char* key : {"epr/tcp:rdp", "epr/path:rdp"}) {
        const ExpectedResult e = expected_result(find(jobs, key));
        CAPTURE(key);
        CHECK(e.kind == K::denied);
        CHECK(e.word() == "deny");
        CHECK(e.met_by(Outcome::filtered));
        CHECK(e.met_by(Outcome::prohibited));
        CHECK_FALSE(e.met_by(Outcome::ok));
        CHECK_FALSE(e.met_by(Outcome::refused));  // nothing stopped it: the host said no
        CHECK(expected_because(find(jobs, key)) == "flow:no-rdp");
    }

    // The target's own word comes first, for all its probes, rdp included.
    for (const char* key : {"expired/tcp:rdp", "expired/http"}) {
        const ExpectedResult e = expected_result(find(jobs, key));
        CAPTURE(key);
        CHECK(e.kind == K::outcome);
        CHECK(e.word() == "tls_error");
        CHECK(e.met_by(Outcome::tls_error));
        CHECK_FALSE(e.met_by(Outcome::filtered));
        CHECK_FALSE(e.met_by(Outcome::ok));
        CHECK(expected_because(find(jobs, key)) == "target");
    }
    const ExpectedResult fail = expected_result(find(jobs, "broken/http"));
    CHECK(fail.kind == K::failure);
    CHECK(fail.met_by(Outcome::mismatch));
    CHECK(fail.met_by(Outcome::tls_error));
    CHECK_FALSE(fail.met_by(Outcome::ok));

    // By probe: only the one named.
    CHECK(expected_result(find(jobs, "no-icmp/icmp")).kind == K::outcome);
    CHECK(expected_result(find(jobs, "no-icmp/icmp")).outcome == Outcome::filtered);
    CHECK(expected_result(find(jobs, "no-icmp/tcp:https")).kind == K::success);

    // The flow job itself is judged as its flow: deny.
    for (const auto& j : jobs)
        if (j.flow) CHECK(expected_result(j).kind == K::denied);
}

TEST_CASE("the policy's deny flow counts only from its own sites") {
    auto r = load_config_text(kConfig, "t.toml", std::string("kent-nhs"));
    REQUIRE(r.config);
    for (const auto& j : build_jobs(*r.config))
        if (j.target->id == "epr") CHECK(expected_result(j).kind == ExpectedResult::Kind::success);
}

TEST_CASE("an unknown expectation is an error that names the line and the words it knows") {
    std::string text = kConfig;
    text.replace(text.find("expect = \"fail\""), 15, "expect = \"broken\"");
    auto r = load_config_text(text, "t.toml", std::nullopt);
    CHECK_FALSE(r.config);
    std::string all;
    for (const auto& d : r.diagnostics)
        all += d.format() + "\n";
    CHECK(all.find("t.toml:") != std::string::npos);
    CHECK(all.find("expect 'broken' is not one of \"ok\", \"fail\", \"refused\"") !=
          std::string::npos);
    CHECK(all.find("\"tls_error\"") != std::string::npos);
}

TEST_CASE("expect by probe names one of the target's probes") {
    std::string text = kConfig;
    text.replace(text.find("expect = { icmp = \"filtered\" }"), 30,
                 "expect = { \"tcp:rdp\" = \"filtered\", icmp = 3 }");
    auto r = load_config_text(text, "t.toml", std::nullopt);
    CHECK_FALSE(r.config);
    std::string all;
    for (const auto& d : r.diagnostics)
        all += d.format() + "\n";
    CHECK(all.find("expect names 'tcp:rdp', which is not one of its probes (icmp, tcp:https)") !=
          std::string::npos);
    CHECK(all.find("expect.icmp must be a string") != std::string::npos);
}
