#include <doctest/doctest.h>

#include "policy/report.hpp"

using namespace fedprobe;

namespace {

FlowRecord rec(const std::string& flow, const std::string& to, bool compliant,
               const std::string& verdict = "") {
    FlowRecord f;
    f.flow = flow;
    f.from = "kent-psn";
    f.to = to;
    f.network = "kent-nhs";
    f.address = "10.31.2.10";
    f.service = "https";
    f.proto = "tcp";
    f.port = 443;
    f.expect = "allow";
    f.outcome = compliant ? "ok" : "filtered";
    f.verdict = verdict.empty() ? (compliant ? "compliant" : "blocked") : verdict;
    f.compliant = compliant;
    f.note = "a <note> & \"quotes\"";
    return f;
}

}  // namespace

TEST_CASE("JSON round trip keeps every field, with the schema version") {
    CheckRun run;
    run.site = "kent-psn";
    run.config = "fed.toml";
    run.started = "2026-11-22T05:00:00Z";
    run.duration_seconds = 1.5;
    run.flows = {rec("a", "epr", true), rec("b", "pacs", false)};
    run.flows[1].reporter = "192.0.2.6";
    run.flows[1].reporter_network = "surrey-psn";
    std::string text = to_json(run);
    CHECK(text.find("\"version\": 1") != std::string::npos);
    std::string error;
    auto back = check_run_from_json(text, error);
    REQUIRE(back);
    CHECK(back->site == "kent-psn");
    REQUIRE(back->flows.size() == 2);
    CHECK(back->flows[1].reporter == "192.0.2.6");
    CHECK(back->flows[1].note == "a <note> & \"quotes\"");
    CHECK(back->flows[1].port == 443);
    CHECK_FALSE(back->flows[1].compliant);
    CHECK(to_json(*back) == text);
}

TEST_CASE("a file that is not a saved run is refused with a reason") {
    std::string error;
    CHECK_FALSE(check_run_from_json("{\"flows\": []}", error));
    CHECK(error.find("version") != std::string::npos);
    CHECK_FALSE(check_run_from_json("{\"version\": 2, \"flows\": []}", error));
    CHECK(error.find("schema version 2") != std::string::npos);
    CHECK_FALSE(check_run_from_json("not json", error));
}

TEST_CASE("baseline diff: newly broken, newly fixed, unchanged, gone") {
    CheckRun before, now;
    before.flows = {rec("a", "epr", true), rec("b", "epr", false), rec("c", "epr", true),
                    rec("old", "epr", true)};
    now.flows = {rec("a", "epr", false), rec("b", "epr", true), rec("c", "epr", true),
                 rec("new", "epr", false)};
    auto d = diff_against(before, now);
    REQUIRE(d.newly_broken.size() == 2);  // a broke; new is non-compliant and was not there
    CHECK(d.newly_broken[0]->flow == "a");
    CHECK(d.newly_broken[1]->flow == "new");
    REQUIRE(d.newly_fixed.size() == 1);
    CHECK(d.newly_fixed[0]->flow == "b");
    CHECK(d.still_ok.size() == 1);
    CHECK(d.gone == std::vector<std::string>{"old/epr"});
    CHECK(to_text(d, false).find("2 newly broken, 1 newly fixed") != std::string::npos);
}

TEST_CASE("JUnit: one testcase per flow, failures carry the evidence, XML escaped") {
    CheckRun run;
    run.site = "kent-psn";
    run.flows = {rec("a", "epr", true), rec("b", "pacs", false, "violation")};
    run.flows[1].expect = "deny";
    run.flows[1].outcome = "ok";
    std::string x = to_junit(run);
    CHECK(x.find("<testsuites tests=\"2\" failures=\"1\"") != std::string::npos);
    CHECK(x.find("<failure type=\"violation\" message=\"expected deny, got ok (violation)\"/>") !=
          std::string::npos);
    CHECK(x.find("a &lt;note&gt; &amp; &quot;quotes&quot;") != std::string::npos);
    CHECK(x.find("<note>") == std::string::npos);
}

TEST_CASE("the table aligns its columns and ends with a summary") {
    CheckRun run;
    run.site = "kent-psn";
    run.flows = {rec("short", "epr", true), rec("a-much-longer-flow-id", "pacs", false)};
    std::string t = to_table(run, false);
    auto first = t.substr(0, t.find('\n'));
    CHECK(first.find("TO") == std::string("a-much-longer-flow-id  ").size());
    CHECK(t.find("2 flows from kent-psn: 1 compliant, 1 not compliant") != std::string::npos);
    CHECK(t.find("\033[") == std::string::npos);  // plain when not on a terminal
}

TEST_CASE("blocked_after: JSON object or null, the JUnit message and the table column") {
    CheckRun run;
    run.site = "kent-psn";
    run.flows = {rec("a", "epr", true), rec("b", "pacs", false), rec("c", "ris", false)};
    run.flows[1].blocked_after =
        FlowRecord::BlockedAfter{4, IpAddress::parse("192.0.2.6"), "surrey-psn"};
    run.flows[2].blocked_after = FlowRecord::BlockedAfter{0, std::nullopt, ""};
    const std::string json = to_json(run);
    CHECK(json.find("\"blocked_after\": null") != std::string::npos);
    CHECK(json.find(R"("blocked_after": {
        "ttl": 4,
        "address": "192.0.2.6",
        "network": "surrey-psn"
      })") != std::string::npos);
    std::string error;
    auto back = check_run_from_json(json, error);
    REQUIRE(back);
    CHECK_FALSE(back->flows[0].blocked_after);
    REQUIRE(back->flows[1].blocked_after);
    CHECK(back->flows[1].blocked_after->ttl == 4);
    CHECK(back->flows[1].blocked_after->network == "surrey-psn");
    CHECK(to_json(*back) == json);

    const std::string junit = to_junit(run);
    CHECK(junit.find("filtered after 192.0.2.6 (surrey-psn), hop 4") != std::string::npos);
    CHECK(junit.find("filtered before any hop answered") != std::string::npos);
    const std::string table = to_table(run, false);
    CHECK(table.find("BLOCKED AFTER") != std::string::npos);
    CHECK(table.find("192.0.2.6 (surrey-psn), hop 4") != std::string::npos);
}

TEST_CASE("check --mtu: path_mtu and middlebox in JSON, read back, and a worse path in the diff") {
    CheckRun before;
    before.site = "kent-psn";
    FlowRecord f;
    f.flow = "councils-to-sussex-nhs-https";
    f.to = "sussex-nhs-svc";
    f.service = "https";
    f.expect = "allow";
    f.outcome = "ok";
    f.verdict = "compliant";
    f.compliant = true;
    PathMtu ok;
    ok.mtu = 1500;
    ok.local_mtu = 1500;
    ok.packets = 1;
    ok.stages = 1;
    f.path_mtu = ok;
    before.flows.push_back(f);
    CheckRun after = before;
    PathMtu hole = ok;
    hole.mtu = 1400;
    hole.lowest_failed = 1401;
    hole.blackhole = true;
    hole.blackhole_size = 1401;
    hole.blackhole_ttl = 3;
    hole.blackhole_hop = *IpAddress::parse("192.0.2.101");
    hole.blackhole_network = "interconnect";
    after.flows[0].path_mtu = hole;
    after.flows[0].middlebox.push_back(
        MiddleboxSeen{MiddleboxChange::dscp, 5, *IpAddress::parse("192.0.2.6"), "surrey-psn"});
    std::string error;
    auto back = check_run_from_json(to_json(after), error);
    REQUIRE(back.has_value());
    REQUIRE(back->flows[0].path_mtu.has_value());
    CHECK(*back->flows[0].path_mtu == hole);
    CHECK(to_json(after).find("\"change\": \"dscp\"") != std::string::npos);
    auto d = diff_against(before, after);
    CHECK(d.newly_broken.empty());
    REQUIRE(d.path_worse.size() == 1);
    CHECK(d.path_worse[0].second ==
          "path MTU 1500 -> path MTU 1400, BLACK HOLE: 1401-byte DF packets vanish after "
          "192.0.2.101 (interconnect), hop 3");
    CHECK(to_text(d, false).find("1 with a worse path") != std::string::npos);
    // The same path again, or a better one: nothing to report.
    CHECK(diff_against(after, after).path_worse.empty());
    CHECK(diff_against(after, before).path_worse.empty());
    // Without --mtu in one of the runs there is nothing to compare.
    CheckRun plain = before;
    plain.flows[0].path_mtu.reset();
    CHECK(diff_against(plain, after).path_worse.empty());
    CHECK(to_table(after, false)
              .find("paths of the flows:\n  councils-to-sussex-nhs-https -> "
                    "sussex-nhs-svc https: path MTU 1400, BLACK HOLE") != std::string::npos);
}
