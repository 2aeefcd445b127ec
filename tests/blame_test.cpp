// The federation verdict rules (policy/blame.hpp), one by one on made-up evidence, and on the
// lab's own scrapes (tests/data/blame/FAULT/SITE.prom, taken from lab runs with three
// appliances: kent-nhs, kent-psn, brighton-psn).
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <sstream>

#include "federation/loader.hpp"
#include "federation/network_index.hpp"
#include "policy/blame.hpp"
#include "policy/blame_evidence.hpp"
#include "policy/exposition.hpp"

using namespace fedprobe;

namespace {

HopSeen hop(int ttl, std::string address, std::string network) {
    return HopSeen{ttl, std::move(address), std::move(network)};
}

// kent-psn's https flow to kent-nhs-svc, as kent-psn sees it.
FlowSeen flow(std::string state, std::string expect = "allow") {
    FlowSeen f;
    f.flow = "councils-to-trusts-https";
    f.to = "kent-nhs-svc";
    f.network = "kent-nhs";
    f.service = "https";
    f.expect = std::move(expect);
    f.state = std::move(state);
    f.compliant = (f.expect == "allow") == (f.state == "ok");
    return f;
}

// kent-psn's way to kent-nhs: its border, the PSN core, the interconnect, a silent exchange,
// kent-nhs's border, the server.
TraceSeen way_out(int upto) {
    TraceSeen t;
    t.target = "kent-nhs-svc";
    t.network = "kent-nhs";
    t.service = "https";
    const HopSeen all[] = {hop(1, "198.51.100.1", "kent-psn"),    hop(2, "192.0.2.1", "psn-core"),
                           hop(3, "192.0.2.101", "interconnect"), hop(4, "", ""),
                           hop(5, "172.20.1.2", "kent-nhs"),      hop(6, "10.31.2.10", "kent-nhs")};
    for (const auto& h : all)
        if (h.ttl <= upto) t.hops.push_back(h);
    t.reached = upto >= 6;
    return t;
}

// kent-nhs's trace back to kent-psn-svc, through `ix` ("interconnect" or the backup).
TraceSeen way_back(const std::string& ix = "interconnect", bool reached = true) {
    TraceSeen t;
    t.target = "kent-psn-svc";
    t.network = "kent-psn";
    t.service = "https";
    t.hops = {hop(1, "10.31.1.1", "kent-nhs"), hop(2, "", ""),
              hop(3, ix == "interconnect" ? "172.20.100.2" : "172.20.101.2", ix),
              hop(4, "192.0.2.102", "psn-core"), hop(5, "192.0.2.2", "kent-psn")};
    if (reached) t.hops.push_back(hop(6, "198.51.100.20", "kent-psn"));
    t.reached = reached;
    t.stop_reason = reached ? "reached" : "silent";
    t.stop = t.hops.back();
    return t;
}

ApplianceEvidence site(std::string id) {
    ApplianceEvidence a = ApplianceEvidence::unanswered(std::move(id), "");
    a.answered = true;
    return a;
}

// kent-psn with one flow, kent-nhs with its trace back: the two ends of every case below.
struct Ends {
    ApplianceEvidence psn = site("kent-psn"), nhs = site("kent-nhs");
    std::vector<Fault> judge() const { return blame({psn, nhs}, 1000); }
};

std::vector<Sample> read_file(const std::string& path) {
    std::ifstream in(path);
    REQUIRE_MESSAGE(in, "cannot read " << path);
    std::stringstream text;
    text << in.rdbuf();
    auto got = read_exposition(text.str(), "fedprobe_", path);
    REQUIRE_MESSAGE(got.ok(), got.status().message());
    return *got;
}

std::vector<Fault> lab_run(const std::string& fault) {
    std::vector<ApplianceEvidence> appliances;
    for (const char* s : {"kent-nhs", "kent-psn", "brighton-psn"})
        add_evidence(read_file(std::string(FEDPROBE_SOURCE_ROOT) + "/tests/data/blame/" + fault +
                               "/" + s + ".prom"),
                     appliances);
    // The lab's other three appliances were not running: their evidence is missing.
    for (const char* s : {"surrey-nhs", "sussex-nhs", "surrey-psn"})
        appliances.push_back(ApplianceEvidence::unanswered(s, "not running"));
    // Whose links the addresses are on, from the lab's own federation file.
    static const std::shared_ptr<NetworkIndex> index = [] {
        LoadResult loaded = load_config_file(
            std::string(FEDPROBE_SOURCE_ROOT) + "/lab/federation.toml", "kent-nhs");
        REQUIRE(loaded.config);
        return std::make_shared<NetworkIndex>(network_index_for_site(*loaded.config));
    }();
    BlameSettings settings;
    settings.link_network = [](const std::string& address) -> std::string {
        auto ip = IpAddress::parse(address);
        return ip ? index->lookup_link(*ip) : "unknown";
    };
    return blame(appliances, 1000, settings);
}

const Fault* find(const std::vector<Fault>& faults, const std::string& flow,
                  const std::string& from) {
    for (const auto& f : faults)
        if (f.flow == flow && f.from == from) return &f;
    return nullptr;
}

}  // namespace

TEST_CASE("a flow that does what the policy expects gets no verdict") {
    Ends e;
    e.psn.flows = {flow("ok"), flow("filtered", "deny")};
    e.psn.flows[1].flow = "no-rdp";
    CHECK(e.judge().empty());
    e.psn.flows = {flow("")};  // not probed yet: nothing is known, nothing is broken
    e.psn.flows[0].compliant = false;
    CHECK(e.judge().empty());
}

TEST_CASE("a reject or an unreachable names its reporter's network") {
    struct Row {
        const char* state;
        const char* reporter_network;
        Segment segment;
    };
    for (const Row& r : {Row{"prohibited", "kent-nhs", Segment::destination},
                         Row{"unreachable", "interconnect", Segment::transit},
                         Row{"prohibited", "kent-psn", Segment::source}}) {
        CAPTURE(r.state);
        Ends e;
        e.psn.flows = {flow(r.state)};
        e.psn.flows[0].reporter = "192.0.2.9";
        e.psn.flows[0].reporter_network = r.reporter_network;
        const auto faults = e.judge();
        REQUIRE(faults.size() == 1);
        CHECK(faults[0].segment == r.segment);
        CHECK(faults[0].owner == r.reporter_network);
    }
    Ends e;  // a reporter in no declared network: nobody can be named
    e.psn.flows = {flow("unreachable")};
    e.psn.flows[0].reporter = "203.0.113.99";
    const auto faults = e.judge();
    REQUIRE(faults.size() == 1);
    CHECK(faults[0].segment == Segment::unknown);
    CHECK(faults[0].owner == "unknown");
    CHECK(faults[0].reason.find("203.0.113.99") != std::string::npos);
}

TEST_CASE("refused is the destination's, a deny flow that gets through is the destination's") {
    Ends e;
    e.psn.flows = {flow("refused"), flow("ok", "deny"), flow("unreachable", "deny")};
    e.psn.flows[1].flow = "no-rdp";
    e.psn.flows[2].flow = "no-dicom";
    e.psn.flows[2].compliant = false;  // not verified: unreachable is no firewall's answer
    const auto faults = e.judge();
    REQUIRE(faults.size() == 3);
    CHECK(faults[0].segment == Segment::destination);
    CHECK(faults[0].owner == "kent-nhs");
    CHECK(faults[1].segment == Segment::destination);  // a violation: B's border lets it in
    CHECK(faults[1].owner == "kent-nhs");
    CHECK(faults[2].segment == Segment::unknown);  // not verified: no firewall was reached
}

TEST_CASE("a silent drop on the way out: the way back follows the way out") {
    Ends e;
    e.psn.flows = {flow("filtered")};
    e.psn.flows[0].blocked_after = hop(5, "172.20.1.2", "kent-nhs");
    e.psn.traces = {way_out(5)};
    e.nhs.traces = {way_back()};
    auto faults = e.judge();
    REQUIRE(faults.size() == 1);
    CHECK(faults[0].segment == Segment::destination);
    CHECK(faults[0].owner == "kent-nhs");
    CHECK(faults[0].hop == hop(5, "172.20.1.2", "kent-nhs"));
    CHECK(faults[0].forward_networks ==
          std::vector<std::string>{"kent-psn", "psn-core", "interconnect", "kent-nhs"});
    REQUIRE(faults[0].return_networks);
    CHECK(*faults[0].return_networks ==
          std::vector<std::string>{"kent-nhs", "interconnect", "psn-core", "kent-psn"});
    // Dropped in the interconnect instead: transit, and the interconnect owns it.
    e.psn.flows[0].blocked_after = hop(3, "192.0.2.101", "interconnect");
    faults = e.judge();
    REQUIRE(faults.size() == 1);
    CHECK(faults[0].segment == Segment::transit);
    CHECK(faults[0].owner == "interconnect");
}

// return-route-missing as kent-psn sees it (its flow dies after the interconnect) with
// kent-nhs's trace back lost entirely (its border's errors are rate-limited).
Ends return_route_missing() {
    Ends e;
    e.psn.flows = {flow("filtered")};
    e.psn.flows[0].blocked_after = hop(3, "192.0.2.101", "interconnect");
    e.psn.traces = {way_out(3)};
    TraceSeen back = way_back("interconnect", false);
    back.hops.clear();
    back.stop = hop(0, "", "");
    e.nhs.traces = {back};
    return e;
}

TEST_CASE("a missing return route: the destination's own probes back say where") {
    // The trace back is lost, and kent-nhs's icmp probe of kent-psn-svc got "unreachable"
    // from its own border.
    Ends e = return_route_missing();
    e.nhs.errors = {ProbeErrorSeen{"kent-psn-svc", "kent-psn", "icmp", "", "unreachable",
                                   "10.31.1.1", "kent-nhs"}};
    auto faults = e.judge();
    REQUIRE(faults.size() == 1);
    CHECK(faults[0].segment == Segment::return_);  // not the interconnect, as the source alone says
    CHECK(faults[0].owner == "kent-nhs");
    // Without the probe, the trace back's own stop says the same.
    e.nhs.errors.clear();
    e.nhs.traces[0].stop_reason = "unreachable";
    e.nhs.traces[0].stop = hop(1, "10.31.1.1", "kent-nhs");
    faults = e.judge();
    REQUIRE(faults.size() == 1);
    CHECK(faults[0].segment == Segment::return_);
    CHECK(faults[0].owner == "kent-nhs");
    CHECK(faults[0].hop == hop(1, "10.31.1.1", "kent-nhs"));
}

TEST_CASE("a missing return route told by the destination's flow back, its probes rate-limited") {
    // At the scrape every probe of kent-nhs's into kent-psn had gone silent (its border's
    // "unreachable" is rate-limited); its flow there kept the answer its reporter gave.
    Ends e = return_route_missing();
    FlowSeen echo;
    echo.flow = "trusts-to-kent-psn-echo";
    echo.to = "kent-psn-svc";
    echo.network = "kent-psn";
    echo.service = "echo";
    echo.expect = "allow";
    echo.state = "filtered";
    echo.answered = "unreachable";
    echo.reporter = "10.31.1.1";
    echo.reporter_network = "kent-nhs";
    e.nhs.flows = {echo};
    auto faults = e.judge();
    const Fault* f = nullptr;
    for (const auto& x : faults)
        if (x.flow == "councils-to-trusts-https") f = &x;
    REQUIRE(f != nullptr);
    CHECK(f->segment == Segment::return_);
    CHECK(f->owner == "kent-nhs");
    CHECK(f->hop == HopSeen{0, "10.31.1.1", "kent-nhs"});
    // An answer from inside kent-psn (its own border) says nothing of kent-nhs's way back.
    e.nhs.flows[0].reporter_network = "kent-psn";
    faults = e.judge();
    for (const auto& x : faults)
        if (x.flow == "councils-to-trusts-https") CHECK(x.segment != Segment::return_);
}

TEST_CASE("no route on the way out: the source's trace into the network says so") {
    Ends e;
    e.psn.flows = {flow("filtered")};
    TraceSeen t = way_out(3);
    t.stop_reason = "unreachable";
    t.stop = hop(3, "192.0.2.101", "interconnect");
    e.psn.traces = {t};
    auto faults = e.judge();
    REQUIRE(faults.size() == 1);
    CHECK(to_string(faults[0].segment) == std::string("transit"));
    CHECK(faults[0].owner == "interconnect");
    CHECK(faults[0].evidence.back().find("ends unreachable from 192.0.2.101") != std::string::npos);
    // Silent, or unreachable from the destination's own border: not this rule.
    e.psn.traces[0].stop_reason = "silent";
    CHECK(e.judge()[0].owner != "interconnect");
    e.psn.traces[0].stop_reason = "unreachable";
    e.psn.traces[0].stop = hop(5, "172.20.1.2", "kent-nhs");
    CHECK(e.judge()[0].reason.empty() == false);
    // A trace taken before the flow broke speaks of an earlier fault: not this one's route.
    e.psn.traces[0].stop = hop(3, "192.0.2.101", "interconnect");
    e.psn.flows[0].since = 500;
    e.psn.traces[0].last_run = 400;
    CHECK(e.judge()[0].owner != "interconnect");
    e.psn.traces[0].last_run = 600;
    CHECK(e.judge()[0].owner == "interconnect");
}

TEST_CASE("a drop beside probes told unreachable: the rate-limited answer, not a drop") {
    Ends e;
    e.psn.flows = {flow("filtered")};
    e.psn.errors = {ProbeErrorSeen{"kent-nhs-svc", "kent-nhs", "tcp", "rdp", "unreachable",
                                   "172.20.1.2", "kent-nhs"}};
    auto faults = e.judge();
    REQUIRE(faults.size() == 1);
    CHECK(to_string(faults[0].segment) == std::string("destination"));
    CHECK(faults[0].owner == "kent-nhs");
    CHECK(faults[0].evidence.back().find("rate-limits") != std::string::npos);
    // A reject is about its own port: it says nothing of this one.
    e.psn.errors[0].outcome = "prohibited";
    CHECK(e.judge()[0].owner != "kent-nhs");
}

TEST_CASE("a silent round after a device answered: that device's rate-limited answer") {
    Ends e;
    e.psn.flows = {flow("filtered")};
    e.psn.flows[0].reporter = "172.20.100.2";
    e.psn.flows[0].reporter_network = "interconnect";
    e.psn.flows[0].answered = "unreachable";
    // Beside it, a trace back that would otherwise leave the way back unknown.
    e.nhs.traces = {way_back("interconnect", false)};
    auto faults = e.judge();
    REQUIRE(faults.size() == 1);
    CHECK(faults[0].segment == Segment::transit);
    CHECK(faults[0].owner == "interconnect");
    CHECK(faults[0].evidence.back().find("to an earlier round of it") != std::string::npos);
    // A reporter in no declared network names nobody: the silent drop is judged as one.
    e.psn.flows[0].reporter_network = "";
    CHECK(e.judge()[0].owner != "interconnect");
    // An appliance before the `answered` label: a reporter on a silent round is not trusted.
    e.psn.flows[0].reporter_network = "interconnect";
    e.psn.flows[0].answered = "";
    CHECK(e.judge()[0].owner != "interconnect");
}

TEST_CASE("a remembered answer that a trace since contradicts is an earlier fault's") {
    // CI: kent-nhs's own border said "no route" in one fault (the memory keeps it 30 s); the
    // next fault followed with no working round between, and its silence was blamed on the
    // border, though kent-nhs's traces since went on past it.
    Ends e;
    e.psn.flows = {flow("filtered")};
    e.psn.flows[0].reporter = "198.51.100.1";
    e.psn.flows[0].reporter_network = "kent-psn";
    e.psn.flows[0].answered = "unreachable";
    e.psn.flows[0].since = 500;
    e.psn.traces = {way_out(3)};  // past its own border, into psn-core and the interconnect
    e.psn.traces[0].last_run = 600;
    auto faults = e.judge();
    REQUIRE(faults.size() == 1);
    CHECK(faults[0].owner != "kent-psn");
    for (const auto& words : faults[0].evidence)
        CHECK(words.find("to an earlier round of it") == std::string::npos);
    // The same trace before the flow broke contradicts nothing: the answer stands.
    e.psn.traces[0].last_run = 400;
    faults = e.judge();
    REQUIRE(faults.size() == 1);
    CHECK(faults[0].owner == "kent-psn");
    // A trace since that stops at the device itself agrees with it.
    e.psn.traces = {way_out(1)};
    e.psn.traces[0].last_run = 600;
    CHECK(e.judge()[0].owner == "kent-psn");
}

TEST_CASE("a flooded reflector's own drops are told beside the sender's loss") {
    std::vector<ApplianceEvidence> all;
    auto add = [&](const std::string& text) {
        auto got = read_exposition(text, "fedprobe_", "t");
        REQUIRE(got.ok());
        add_evidence(*got, all);
    };
    const std::string flow =
        "{expect=\"allow\",flow=\"councils-to-trusts-https\",from=\"kent-psn\","
        "network=\"kent-nhs\",service=\"https\",site=\"kent-psn\","
        "to=\"kent-nhs-svc\"";
    const std::string stamp =
        "{network=\"kent-nhs\",probe=\"stamp\",site=\"kent-psn\",target=\"kent-nhs-app\"}";
    add("fedprobe_flow_compliant" + flow + "} 0\n" + "fedprobe_flow_state" + flow +
        ",state=\"filtered\"} 1\n" + "fedprobe_stamp_packets_sent_total" + stamp + " 165\n" +
        "fedprobe_stamp_forward_lost_total" + stamp + " 97\n" +
        "fedprobe_stamp_backward_lost_total" + stamp + " 0\n");
    add("fedprobe_stamp_reflector_packets_total{result=\"reflected\",site=\"kent-nhs\"} 68\n"
        "fedprobe_stamp_reflector_packets_total{result=\"dropped\",site=\"kent-nhs\"} 7680000\n"
        "fedprobe_stamp_reflector_packets_total{result=\"rate_limited\",site=\"kent-nhs\"} 12\n");
    const auto faults = blame(all, 1000);
    REQUIRE(faults.size() == 1);
    bool told = false;
    for (const auto& e : faults[0].evidence)
        if (e.find("97 lost on the way out") != std::string::npos)
            told = e.find("kent-nhs's reflector itself left 7680012 test packets unanswered") !=
                   std::string::npos;
    CHECK(told);
    // The reflector's own series is not a STAMP session of its appliance's.
    for (const auto& a : all)
        for (const auto& st : a.stamps)
            CHECK_FALSE(st.target.empty());
}

TEST_CASE(
    "an unreachable from before the flow broke, which a later trace contradicts, is no route") {
    Ends e;
    e.psn.flows = {flow("filtered")};
    e.psn.flows[0].since = 500;
    // A probe's last round still says the border had no route: a fault that has gone, before
    // this one.
    e.psn.errors = {ProbeErrorSeen{"kent-nhs-app", "kent-nhs", "tcp", "https", "unreachable",
                                   "198.51.100.1", "kent-psn"}};
    e.psn.traces = {way_out(6)};
    e.psn.traces[0].last_run = 600;  // after the flow broke: the way out routes into kent-nhs
    auto faults = e.judge();
    REQUIRE(faults.size() == 1);
    CHECK(faults[0].owner != "kent-psn");
    for (const auto& words : faults[0].evidence)
        CHECK(words.find("the way out has no route") == std::string::npos);
    // A STAMP session's last error is never taken for the route now: its rounds are 10 s apart.
    e.psn.errors[0].probe = "stamp";
    e.psn.traces[0].last_run = 400;
    faults = e.judge();
    REQUIRE(faults.size() == 1);
    CHECK(faults[0].owner != "kent-psn");
    e.psn.errors[0].probe = "tcp";
    // A trace from before the break contradicts nothing: the no-route answer stands.
    e.psn.traces[0].last_run = 400;
    faults = e.judge();
    REQUIRE(faults.size() == 1);
    CHECK(faults[0].segment == Segment::source);
    CHECK(faults[0].owner == "kent-psn");
}

TEST_CASE("the destination's capture: real handshakes from the source, as evidence") {
    Ends e;
    e.psn.flows = {flow("filtered")};
    e.psn.flows[0].blocked_after = hop(3, "192.0.2.101", "interconnect");
    e.nhs.traces = {way_back()};
    auto has = [&](const std::string& words) {
        const auto faults = e.judge();
        for (const auto& line : faults.at(0).evidence)
            if (line.find(words) != std::string::npos) return true;
        return false;
    };
    CHECK_FALSE(has("capture"));  // it does not capture: nothing said
    e.nhs.captures = true;
    CHECK(has("at kent-nhs's capture, no https handshake from kent-psn has been seen"));
    e.nhs.passive = {PassiveSeen{"kent-psn", "kent-nhs", "https", {{"ok", 12}, {"filtered", 30}}}};
    CHECK(has("real https handshakes from kent-psn since it started: 30 filtered, 12 ok"));
}

TEST_CASE("no route on the way out: the source's own probes say so") {
    Ends e;
    e.psn.flows = {flow("filtered")};
    e.psn.errors = {ProbeErrorSeen{"kent-nhs-svc", "kent-nhs", "icmp", "", "unreachable",
                                   "198.51.100.1", "kent-psn"}};
    const auto faults = e.judge();
    REQUIRE(faults.size() == 1);
    CHECK(faults[0].segment == Segment::source);
    CHECK(faults[0].owner == "kent-psn");
}

TEST_CASE("an asymmetric return: the network beside the parting owns the route") {
    Ends e;
    e.psn.flows = {flow("filtered")};
    e.psn.flows[0].blocked_after = hop(3, "192.0.2.101", "interconnect");
    e.psn.traces = {way_out(3)};
    // kent-nhs's way back runs through the backup interconnect. From kent-psn: out through
    // kent-psn, psn-core, interconnect; back through kent-psn, psn-core, interconnect-backup.
    e.nhs.traces = {way_back("interconnect-backup")};
    const auto faults = e.judge();
    REQUIRE(faults.size() == 1);
    CHECK(faults[0].segment == Segment::return_);
    CHECK(faults[0].owner == "psn-core");
    CHECK(faults[0].evidence.back().find("interconnect-backup") != std::string::npos);
}

TEST_CASE("an asymmetric return seen past the flow's own trace: the source's longer trace") {
    Ends e;
    e.psn.flows = {flow("filtered")};
    // The flow's trace ends inside kent-psn (its later hops' answers were rate-limited or lost),
    e.psn.flows[0].blocked_after = hop(1, "198.51.100.1", "kent-psn");
    TraceSeen flow_trace = way_out(1);
    // while kent-psn's icmp trace into kent-nhs goes on through the primary interconnect.
    TraceSeen icmp = way_out(3);
    icmp.target = "kent-nhs-app";
    icmp.service = "";
    e.psn.traces = {flow_trace, icmp};
    e.nhs.traces = {way_back("interconnect-backup")};
    auto faults = e.judge();
    REQUIRE(faults.size() == 1);
    CHECK(faults[0].segment == Segment::return_);
    CHECK(faults[0].owner == "psn-core");
    // The flow's own way stays what its trace saw.
    CHECK(faults[0].forward_networks == std::vector<std::string>{"kent-psn"});
    // The way back follows the longer trace: the drop is at the source, as the flow saw it.
    e.nhs.traces = {way_back()};
    faults = e.judge();
    REQUIRE(faults.size() == 1);
    CHECK(faults[0].segment == Segment::source);
    CHECK(faults[0].owner == "kent-psn");
    // A longer trace that disagrees with the flow's own start is not taken for its way.
    e.psn.traces[1].hops[0] = hop(1, "198.51.100.129", "surrey-psn");
    e.nhs.traces = {way_back("interconnect-backup")};
    faults = e.judge();
    REQUIRE(faults.size() == 1);
    CHECK(faults[0].segment == Segment::source);
}

TEST_CASE("missing, silent, stale or disagreeing evidence gives unknown with the reason") {
    Ends e;
    e.psn.flows = {flow("filtered")};
    e.psn.flows[0].blocked_after = hop(3, "192.0.2.101", "interconnect");
    e.psn.traces = {way_out(3)};
    auto one = [](const std::vector<Fault>& f) {
        REQUIRE(f.size() == 1);
        CHECK(f[0].segment == Segment::unknown);
        CHECK(f[0].owner == "unknown");
        return f[0].reason;
    };
    // The other end said nothing.
    CHECK(one(blame({e.psn}, 1000)).find("no evidence from kent-nhs") != std::string::npos);
    CHECK(one(blame({e.psn, ApplianceEvidence::unanswered("kent-nhs", "timed out")}, 1000))
              .find("timed out") != std::string::npos);
    // It answered, but traces nothing back.
    CHECK(one(e.judge()).find("traces nothing back") != std::string::npos);
    // Its trace back was taken before the flow broke: the way back as it is now is not known
    // (a route that moved with the fault is not in it), however well it agrees with the way out.
    e.nhs.traces = {way_back()};
    e.nhs.traces[0].last_run = 990;
    e.psn.flows[0].since = 995;
    CHECK(one(e.judge()).find("taken before the flow broke") != std::string::npos);
    e.nhs.traces[0].last_run = 996;  // taken since: judged
    CHECK(e.judge().at(0).segment == Segment::transit);
    e.psn.flows[0].since.reset();
    e.nhs.traces.clear();
    // Both ways are lost silently: the ends do not agree on a place.
    e.nhs.traces = {way_back("interconnect", false)};
    e.nhs.traces[0].hops.resize(1);
    e.nhs.traces[0].stop = e.nhs.traces[0].hops.back();
    CHECK(one(e.judge()).find("both ways") != std::string::npos);
    // A trace back from long ago.
    e.nhs.traces = {way_back()};
    e.nhs.traces[0].last_run = 100;
    CHECK(one(blame({e.psn, e.nhs}, 1000, BlameSettings{.stale_after = 60, .link_network = {}}))
              .find("900 s old") != std::string::npos);
    // The source has not traced the flow yet.
    e.psn.flows[0].blocked_after.reset();
    e.nhs.traces[0].last_run.reset();
    CHECK(one(e.judge()).find("no trace of the flow yet") != std::string::npos);
}

TEST_CASE("a black hole on a flow's way: mtu, owned by the hop after the last that answers") {
    Ends e;
    e.psn.flows = {flow("ok")};
    TraceSeen t = way_out(6);
    t.service = "mllp";
    t.mtu = 1400;
    CHECK(e.judge().empty());  // a path with no black hole says nothing
    // Full-size packets are answered as far as the interconnect (TTL 3); the exchange at TTL 4
    // answers small packets only.
    t.hops[3] = hop(4, "172.20.100.1", "hscn-exchange");
    t.blackhole = hop(3, "192.0.2.101", "interconnect");
    e.psn.traces = {t};
    auto faults = e.judge();
    REQUIRE(faults.size() == 1);
    CHECK(faults[0].flow == "councils-to-trusts-https");
    CHECK(to_string(faults[0].segment) == std::string("mtu"));
    CHECK(faults[0].owner == "hscn-exchange");
    CHECK(faults[0].hop == hop(3, "192.0.2.101", "interconnect"));
    CHECK(faults[0].evidence.back().find("172.20.100.1 (hscn-exchange), hop 4") !=
          std::string::npos);
    // Small packets do not get through either: not a black hole, whatever the search says.
    e.psn.traces[0].reached = false;
    CHECK(e.judge().empty());
    e.psn.traces[0].reached = true;
    // Lost before the first hop: the first hop's network.
    e.psn.traces[0].blackhole = hop(0, "", "");
    CHECK(e.judge()[0].owner == "kent-psn");
    // The hop after is silent to small packets too: where the hole is is not known...
    e.psn.traces[0].blackhole = hop(3, "192.0.2.101", "interconnect");
    e.psn.traces[0].hops[3] = hop(4, "", "");
    faults = e.judge();
    CHECK(to_string(faults[0].segment) == std::string("mtu"));
    CHECK(faults[0].owner == "unknown");
    CHECK(faults[0].reason.find("does not answer small packets either") != std::string::npos);
    // ...unless the hop after it sits on a link numbered from another network's addresses: the
    // silent router is that network's.
    BlameSettings settings;
    settings.link_network = [](const std::string& address) -> std::string {
        return address == "172.20.1.2" ? "hscn-exchange" : "unknown";
    };
    faults = blame({e.psn, e.nhs}, 1000, settings);
    CHECK(faults[0].owner == "hscn-exchange");
    CHECK(faults[0].evidence.back().find("numbered from hscn-exchange") != std::string::npos);
    // Two silent hops: the neighbour of the one that answers may not be where the hole is.
    e.psn.traces[0].hops[4] = hop(5, "", "");
    e.psn.traces[0].hops[5] = hop(6, "172.20.1.2", "kent-nhs");
    CHECK(blame({e.psn, e.nhs}, 1000, settings)[0].owner == "unknown");
    e.psn.traces[0].hops = way_out(6).hops;
    // A deny flow is not carried by the path: no flow of the policy goes there, so the black
    // hole is a fault of its own, named after the target.
    e.psn.traces[0].hops[3] = hop(4, "172.20.100.1", "hscn-exchange");
    e.psn.flows = {flow("filtered", "deny")};
    faults = e.judge();
    REQUIRE(faults.size() == 1);
    CHECK(faults[0].flow == "mtu:kent-nhs-svc");
    CHECK(faults[0].owner == "hscn-exchange");
    // A flow that is broken anyway is judged as broken, and the hole stays a fault of its own.
    e.psn.flows = {flow("filtered")};
    e.psn.flows[0].blocked_after = hop(3, "192.0.2.101", "interconnect");
    faults = e.judge();
    REQUIRE(faults.size() == 2);
    CHECK(faults[0].flow == "councils-to-trusts-https");
    CHECK(to_string(faults[0].segment) != std::string("mtu"));
    CHECK(faults[1].flow == "mtu:kent-nhs-svc");
}

TEST_CASE("a resolver's unexpected answer: dns, owned by the resolver's network") {
    Ends e;
    ProbeErrorSeen dns{"kent-psn-resolver", "kent-psn", "dns", "", "mismatch", "", ""};
    e.nhs.errors = {dns};
    auto faults = e.judge();
    REQUIRE(faults.size() == 1);
    CHECK(faults[0].flow == "dns:kent-psn-resolver");
    CHECK(faults[0].from == "kent-nhs");
    CHECK(faults[0].service == "dns");
    CHECK(to_string(faults[0].segment) == std::string("dns"));
    CHECK(faults[0].owner == "kent-psn");
    // A resolver that does not answer is a reachability failure, not a wrong view.
    e.nhs.errors[0].outcome = "filtered";
    CHECK(e.judge().empty());
    // Asked over UDP and over TCP: one fault, naming both.
    e.nhs.errors = {dns, dns};
    e.nhs.errors[1].service = "dns";
    faults = e.judge();
    REQUIRE(faults.size() == 1);
    CHECK(faults[0].evidence[0].find("asked over UDP and on dns's port") != std::string::npos);
}

TEST_CASE("idle sessions cut too soon: the one network no longer-lived session clears") {
    Ends e;
    e.psn.flows = {flow("ok")};
    e.psn.flows[0].flow = "councils-to-kent-nhs-mllp";
    e.psn.flows[0].service = "mllp";
    e.psn.traces = {way_out(6)};
    e.psn.traces[0].service = "";
    IdleSeen cut{"kent-nhs-svc", "kent-nhs", "mllp", 4, 6, 10, true};
    e.psn.idles = {cut};
    // Alone, the cut sessions' way has four networks: nothing clears any of them.
    auto faults = e.judge();
    REQUIRE(faults.size() == 1);
    CHECK(faults[0].flow == "councils-to-kent-nhs-mllp");
    CHECK(to_string(faults[0].segment) == std::string("idle"));
    CHECK(faults[0].owner == "unknown");
    CHECK(faults[0].reason.find("kent-psn > psn-core > interconnect > kent-nhs") !=
          std::string::npos);
    // SMTP to surrey-psn lives 8 s idle: kent-psn and the PSN core are cleared.
    TraceSeen to_surrey_psn;
    to_surrey_psn.target = "surrey-psn-svc";
    to_surrey_psn.network = "surrey-psn";
    to_surrey_psn.hops = {hop(1, "198.51.100.1", "kent-psn"), hop(2, "192.0.2.1", "psn-core"),
                          hop(3, "192.0.2.6", "surrey-psn")};
    e.psn.traces.push_back(to_surrey_psn);
    e.psn.idles.push_back(IdleSeen{"surrey-psn-svc", "surrey-psn", "smtp", 8, HUGE_VAL, {}, false});
    CHECK(e.judge()[0].reason.find("crosses interconnect > kent-nhs") != std::string::npos);
    // A session to surrey-nhs that lived only 5 s clears nothing (the cut came after 6 s)...
    TraceSeen to_surrey_nhs = to_surrey_psn;
    to_surrey_nhs.target = "surrey-nhs-svc";
    to_surrey_nhs.network = "surrey-nhs";
    to_surrey_nhs.hops = {hop(1, "198.51.100.1", "kent-psn"), hop(2, "192.0.2.1", "psn-core"),
                          hop(3, "192.0.2.101", "interconnect"), hop(4, "", ""),
                          hop(5, "172.20.2.2", "surrey-nhs")};
    e.psn.traces.push_back(to_surrey_nhs);
    e.psn.idles.push_back(IdleSeen{"surrey-nhs-svc", "surrey-nhs", "smtp", 5, HUGE_VAL, {}, false});
    CHECK(e.judge()[0].owner == "unknown");
    // ...one that lived 8 s clears the interconnect: kent-nhs is left.
    e.psn.idles.back().lower = 8;
    faults = e.judge();
    CHECK(faults[0].owner == "kent-nhs");
    CHECK(faults[0].evidence.back().find("no longer-lived session crosses: kent-nhs") !=
          std::string::npos);
    // Cut, but not below idle.required: no fault. Without an allowed flow: idle:TARGET.
    e.psn.idles[0].below_required = false;
    CHECK(e.judge().empty());
    e.psn.idles[0].below_required = true;
    e.psn.flows.clear();
    CHECK(e.judge()[0].flow == "idle:kent-nhs-svc");
}

TEST_CASE("the lab's runs: every fault class with its segment and owner") {
    CHECK(lab_run("clean").empty());
    struct Row {
        const char* fault;
        const char* flow;
        const char* from;
        Segment segment;
        const char* owner;
    };
    for (const Row& r : {
             Row{"drop-mllp", "councils-to-kent-nhs-mllp", "kent-psn", Segment::destination,
                 "kent-nhs"},
             Row{"lan-drop", "councils-to-kent-nhs-mllp", "brighton-psn", Segment::destination,
                 "kent-nhs"},
             Row{"return-route-missing", "councils-to-trusts-https", "kent-psn", Segment::return_,
                 "kent-nhs"},
             Row{"return-route-missing", "trusts-to-kent-psn-echo", "kent-nhs", Segment::source,
                 "kent-nhs"},
             Row{"asymmetric", "trusts-to-councils-smtp", "kent-nhs", Segment::return_, "psn-core"},
             Row{"route-withdrawn", "trusts-to-councils-smtp", "kent-nhs", Segment::transit,
                 "interconnect"},
             Row{"mtu-blackhole", "councils-to-sussex-nhs-https", "kent-psn", Segment::mtu,
                 "hscn-exchange"},
             Row{"mtu-blackhole", "councils-to-sussex-nhs-https", "brighton-psn", Segment::mtu,
                 "hscn-exchange"},
             Row{"mtu-blackhole", "mtu:sussex-nhs-pmtu", "kent-nhs", Segment::mtu, "hscn-exchange"},
             Row{"dns-split", "dns:kent-psn-resolver", "brighton-psn", Segment::dns, "kent-psn"},
         }) {
        CAPTURE(r.fault);
        CAPTURE(r.flow);
        const auto faults = lab_run(r.fault);
        const Fault* f = find(faults, r.flow, r.from);
        REQUIRE(f);
        CAPTURE(f->reason);
        CHECK(to_string(f->segment) == std::string(to_string(r.segment)));
        CHECK(f->owner == r.owner);
        // Nothing else is blamed on an organisation the fault is not in.
        for (const auto& other : faults)
            if (other.segment != Segment::unknown) CHECK(other.owner == std::string(r.owner));
    }
}

TEST_CASE("exposition: labels, escapes, values; errors name the line") {
    const std::string text =
        "# HELP x y\n"
        "fedprobe_a{a=\"1\",b=\"q\\\"u\\\\o\\nte\"} 2.5\n"
        "other_metric{a=\"1\"} 7\n"
        "fedprobe_b NaN\n"
        "fedprobe_c{} +Inf 1700000000\n";
    auto got = read_exposition(text, "fedprobe_", "t");
    REQUIRE(got.ok());
    REQUIRE(got->size() == 3);
    CHECK((*got)[0].label("b") == "q\"u\\o\nte");
    CHECK((*got)[0].label("nosuch").empty());
    CHECK((*got)[0].value == 2.5);
    CHECK((*got)[1].value != (*got)[1].value);  // NaN
    CHECK((*got)[2].labels.empty());
    for (const auto& [bad_text, why] : std::vector<std::pair<std::string, std::string>>{
             {"fedprobe_a{a=\"1\" 2\n", "t:1:"},
             {"ok 1\nfedprobe_a{a=1} 2\n", "t:2: label a's value is not quoted"},
             {"fedprobe_a{a=\"1\",a=\"2\"} 2\n", "given twice"},
             {"fedprobe_a 2x\n", "not a number"},
             {"{a=\"1\"} 2\n", "a metric name was expected"},
             {"fedprobe_a{a=\"1", "not closed"}}) {
        const std::string& bad = bad_text;  // CAPTURE is a lambda: no structured binding in it
        CAPTURE(bad);
        auto r = read_exposition(bad, "", "t");
        REQUIRE_FALSE(r.ok());
        CHECK(r.status().message().find(why) != std::string::npos);
    }
}
