#include "exporters/status_page.hpp"

#include <doctest/doctest.h>

#include "core/markup.hpp"

using namespace fedprobe;

TEST_CASE("every string is escaped") {
    CHECK(escape_markup("<a href=\"x\">'&'</a>") ==
          "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    StatusView v;
    v.site = "<site>";
    StatusView::Probe p;
    p.target = "t<1>";
    p.network = "n&";
    p.probe = "tcp";
    p.service = "s\"x";
    p.outcome = "filtered";
    p.labels["role"] = "<img src=x onerror=alert(1)>";
    v.probes.push_back(p);
    StatusView::Flow f;
    f.flow = "f'";
    f.note = "<script>alert(1)</script>";
    v.flows.push_back(f);
    StatusView::Path path{"t<1>", "", "reached at <h>", {{"1", "<h>", "<n>"}}};
    v.paths.push_back(path);
    const std::string page = render_status_page(v);
    for (const char* raw :
         {"<site>", "t<1>", "n&<", "s\"x", "<img", "<script>", "f'", "<h>", "<n>"})
        CHECK_MESSAGE(page.find(raw) == std::string::npos, std::string(raw));
    CHECK(page.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
    CHECK(page.find("data-target=\"t&lt;1&gt;\"") != std::string::npos);
}

TEST_CASE("failing probes first, then those not yet probed, then the working ones") {
    StatusView v;
    auto probe = [](std::string target, std::string outcome) {
        StatusView::Probe p;
        p.target = std::move(target);
        p.probe = "icmp";
        p.as_expected = outcome == "ok";  // nothing expected of them but success
        p.outcome = std::move(outcome);
        return p;
    };
    v.probes = {probe("a", "ok"), probe("b", ""), probe("c", "filtered"), probe("d", "ok")};
    const std::string page = render_status_page(v);
    const auto at = [&](const char* t) {
        return page.find(std::string("data-target=\"") + t + "\"");
    };
    CHECK(at("c") < at("b"));
    CHECK(at("b") < at("a"));
    CHECK(at("a") < at("d"));
    CHECK(page.find("1 not as expected") != std::string::npos);
    CHECK(page.find("not yet probed") != std::string::npos);
    CHECK(page.find("<script") == std::string::npos);  // no JavaScript at all
}

TEST_CASE("a flow's row: compliance as its colour, and where a silent drop stops") {
    StatusView v;
    StatusView::Flow denied, blocked;
    denied.flow = "no-rdp";
    denied.expect = "deny";
    denied.state = "filtered";
    denied.verdict = "compliant";
    denied.compliant = true;  // a denied flow that is stopped is green
    blocked.flow = "mllp";
    blocked.expect = "allow";
    blocked.state = "filtered";
    blocked.verdict = "blocked";
    blocked.blocked_after = "after 172.20.1.2 (kent-nhs), hop 5";
    v.flows = {denied, blocked};
    const std::string page = render_status_page(v);
    CHECK(page.find("<tr class=\"ok\" data-flow=\"no-rdp\">") != std::string::npos);
    CHECK(page.find("<tr class=\"bad\" data-flow=\"mllp\">") != std::string::npos);
    CHECK(page.find("<td>after 172.20.1.2 (kent-nhs), hop 5</td>") != std::string::npos);
    CHECK(page.find("<th>where it stops</th>") != std::string::npos);
}

TEST_CASE("a failure the config expects is no failure: counted apart and listed on request") {
    StatusView v;
    auto probe = [](std::string target, std::string outcome, bool as_expected,
                    std::string expect = "") {
        StatusView::Probe p;
        p.target = std::move(target);
        p.probe = "tcp";
        p.service = "rdp";
        p.outcome = std::move(outcome);
        p.as_expected = as_expected;
        p.expect = std::move(expect);
        if (!p.expect.empty()) p.expect_because = "flow:no-rdp";
        return p;
    };
    v.probes = {probe("denied", "filtered", true, "deny"), probe("open", "ok", false, "deny"),
                probe("fine", "ok", true), probe("down", "refused", false)};
    const std::string page = render_status_page(v);
    CHECK(page.find("4 probes, 2 not as expected (1 failing as the config expects)") !=
          std::string::npos);
    // A denied service that connects is red, with what was expected of it.
    CHECK(page.find("<tr class=\"bad\" data-target=\"open\"") != std::string::npos);
    CHECK(page.find("<td>deny (flow:no-rdp)</td>") != std::string::npos);
    // The stopped one is green, in the table shown on request, after the main one.
    const auto details = page.find("<details id=\"expected\">");
    const auto denied = page.find("<tr class=\"ok\" data-target=\"denied\"");
    REQUIRE(details != std::string::npos);
    REQUIRE(denied != std::string::npos);
    CHECK(denied > details);
    CHECK(page.find("data-target=\"down\"") < details);
    CHECK(page.find("data-target=\"fine\"") < details);
}

TEST_CASE("a kind's own finding beside the reporter; an application's refusal says where") {
    StatusView v;
    StatusView::Probe p;
    p.target = "kent-nhs-mllp";
    p.probe = "idle";
    p.service = "mllp";
    p.outcome = "ok";
    p.as_expected = true;
    p.note = "sessions cut after 4-5 s idle, below the 10 s required, on the way to this target";
    v.probes.push_back(p);
    StatusView::Flow f;
    f.flow = "councils-to-kent-nhs-mllp";
    f.to = "kent-nhs-svc";
    f.state = "app_blocked";
    v.flows.push_back(f);
    const std::string page = render_status_page(v);
    CHECK(page.find("<td>sessions cut after 4-5 s idle, below the 10 s required, on the way to "
                    "this target</td>") != std::string::npos);
    CHECK(page.find("<td>past the handshake, to kent-nhs-svc</td>") != std::string::npos);
}
