#include <doctest/doctest.h>

#include "probes/path/path_trace.hpp"

using namespace fedprobe;

namespace {

const IpAddress kDst = *IpAddress::parse("198.51.100.20");

// "r1 r2 * r3 D": routers (time exceeded), silence, the destination (port unreachable), or
// "X:code" for a destination-unreachable from a router.
FlowTrace trace(std::vector<std::string> hops, int attempts = 1) {
    FlowTrace t;
    int ttl = 0;
    for (const auto& h : hops) {
        PathHop hop;
        hop.ttl = ++ttl;
        for (int i = 0; i < attempts; ++i) {
            PathAttempt a;
            if (h != "*") {
                a.answered = true;
                a.icmp = true;
                if (h == "D") {
                    a.from = kDst;
                    a.icmp_type = 3;
                    a.icmp_code = 3;
                } else if (h.rfind("X:", 0) == 0) {
                    a.from = *IpAddress::parse("192.0.2.6");
                    a.icmp_type = 3;
                    a.icmp_code = static_cast<std::uint8_t>(std::stoi(h.substr(2)));
                } else {
                    a.from = *IpAddress::parse(h);
                    a.icmp_type = 11;
                }
            }
            hop.attempts.push_back(a);
        }
        t.hops.push_back(hop);
    }
    return t;
}

FlowTrace concluded(std::vector<std::string> hops, int gap = 5, int max_ttl = 30) {
    FlowTrace t = trace(std::move(hops));
    conclude_trace(t, kDst, gap, max_ttl);
    return t;
}

}  // namespace

TEST_CASE("stop reasons: reached, unreachable, prohibited, silent, loop, max_ttl") {
    auto reached = concluded({"10.0.0.1", "10.0.0.2", "*", "D", "D"});
    CHECK(reached.stop == PathStop::reached);
    CHECK(reached.stop_ttl == 4);
    CHECK(reached.hops.size() == 4);  // TTLs past the destination say nothing new
    CHECK(reached.stop_hop == kDst);
    CHECK(outcome_of(reached) == Outcome::ok);

    auto prohibited = concluded({"10.0.0.1", "X:13"});
    CHECK(prohibited.stop == PathStop::prohibited);
    CHECK(prohibited.stop_ttl == 2);
    CHECK(prohibited.stop_hop == *IpAddress::parse("192.0.2.6"));
    CHECK(outcome_of(prohibited) == Outcome::prohibited);

    auto unreachable = concluded({"10.0.0.1", "X:1"});
    CHECK(unreachable.stop == PathStop::unreachable);
    CHECK(outcome_of(unreachable) == Outcome::unreachable);

    // Silent after hop 3: the flow dies after 172.20.100.2.
    auto silent = concluded({"10.0.0.1", "10.0.0.2", "172.20.100.2", "*", "*", "*", "*", "*", "*"});
    CHECK(silent.stop == PathStop::silent);
    CHECK(silent.stop_ttl == 3);
    CHECK(silent.stop_hop == *IpAddress::parse("172.20.100.2"));
    CHECK(silent.hops.size() == 8);  // up to the gap limit
    CHECK(outcome_of(silent) == Outcome::filtered);

    // A silent hop within the gap limit is just a router that does not answer.
    auto gap = concluded({"10.0.0.1", "*", "10.0.0.3", "D"});
    CHECK(gap.stop == PathStop::reached);
    CHECK_FALSE(gap.hops[1].address.has_value());

    auto nothing = concluded({"*", "*", "*"}, 3);
    CHECK(nothing.stop == PathStop::silent);
    CHECK(nothing.stop_ttl == 0);
    CHECK_FALSE(nothing.stop_hop.has_value());

    auto loop = concluded({"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.2"});
    CHECK(loop.stop == PathStop::loop);
    CHECK(loop.stop_ttl == 4);
    // The same router twice in a row is not a loop (some routers forward at TTL 1 once).
    auto twice = concluded({"10.0.0.1", "10.0.0.2", "10.0.0.2", "D"});
    CHECK(twice.stop == PathStop::reached);

    auto max = concluded({"10.0.0.1", "10.0.0.2", "10.0.0.3"}, 5, 3);
    CHECK(max.stop == PathStop::max_ttl);
    CHECK(max.stop_ttl == 3);
}

TEST_CASE("the hash names the ordered hop list, silent TTLs included, below 2^53") {
    auto a = concluded({"10.0.0.1", "10.0.0.2", "D"});
    auto b = concluded({"10.0.0.1", "10.0.0.2", "D"});
    auto c = concluded({"10.0.0.1", "10.0.0.9", "D"});
    auto d = concluded({"10.0.0.1", "*", "D"});
    CHECK(a.hash == b.hash);
    CHECK(a.hash != c.hash);
    CHECK(a.hash != d.hash);
    CHECK(a.hash < (std::uint64_t{1} << 53));
}

TEST_CASE("a change counts once, after two rounds; a lost reply is no change") {
    PathChangeTracker t;
    auto main = hop_list(concluded({"10.0.0.1", "172.20.100.2", "192.0.2.102", "D"}));
    auto backup = hop_list(concluded({"10.0.0.1", "172.20.101.2", "192.0.2.106", "D"}));
    auto lossy = hop_list(concluded({"10.0.0.1", "*", "192.0.2.102", "D"}));
    CHECK_FALSE(t.observe(main));
    CHECK_FALSE(t.observe(main));
    CHECK_FALSE(t.observe(lossy));   // a silent TTL differs in no answering hop
    CHECK_FALSE(t.observe(backup));  // seen once: maybe an odd reply
    CHECK_FALSE(t.observe(main));    // back: nothing happened
    CHECK_FALSE(t.observe(backup));
    CHECK(t.observe(backup));  // twice in a row: the path moved
    CHECK_FALSE(t.observe(backup));
    CHECK(t.current() == backup);
    CHECK_FALSE(t.observe(main));
    CHECK(t.observe(main));  // and back, counted again
}

TEST_CASE("distinct paths among flows: ECMP width, silent TTLs do not split paths") {
    std::vector<FlowTrace> flows = {
        concluded({"10.0.0.1", "10.1.0.1", "D"}), concluded({"10.0.0.1", "10.2.0.1", "D"}),
        concluded({"10.0.0.1", "*", "D"}), concluded({"10.0.0.1", "10.1.0.1", "D"})};
    CHECK(distinct_paths(flows) == 2);
    CHECK(distinct_paths(std::span<const FlowTrace>(flows).first(1)) == 1);
}

TEST_CASE("forwarding loss: only where it persists to the destination") {
    auto rates = [](std::vector<std::pair<int, int>> v) {
        std::vector<HopTally> t;
        for (auto [s, a] : v)
            t.push_back(HopTally{static_cast<std::uint32_t>(s), static_cast<std::uint32_t>(a)});
        return t;
    };
    // Hop 2 rate-limits its ICMP, everything after answers: no loss.
    CHECK(forwarding_loss_from(rates({{10, 10}, {10, 3}, {10, 10}, {10, 10}}), true) == -1);
    // From hop 3 on, everything answers less: loss from TTL 3.
    CHECK(forwarding_loss_from(rates({{10, 10}, {10, 10}, {10, 7}, {10, 6}, {10, 7}}), true) == 3);
    // A silent router in the middle is not loss either.
    CHECK(forwarding_loss_from(rates({{10, 10}, {10, 0}, {10, 10}}), true) == -1);
    // Unreached: no loss figure (the flow dies; stop_info says where).
    CHECK(forwarding_loss_from(rates({{10, 10}, {10, 5}}), false) == -1);

    LossWindow w;
    auto good = trace({"10.0.0.1", "10.0.0.2", "D"}, 2);
    conclude_trace(good, kDst, 5, 30);
    auto lossy = trace({"10.0.0.1", "10.0.0.2", "D"}, 2);
    lossy.hops[1].attempts[0].answered = false;  // hop 2 and the destination lose one of two
    lossy.hops[2].attempts[0].answered = false;
    conclude_trace(lossy, kDst, 5, 30);
    w.add(good);
    w.add(lossy);
    CHECK(w.loss_from() == -1);  // too few rounds to say
    w.add(lossy);
    CHECK(w.loss_from() == 2);
    w.reset();
    CHECK(w.loss_from() == -1);
}

TEST_CASE("blocked_after: the last hop that answered, nothing when the trace reached") {
    PathResult r;
    CHECK_FALSE(blocked_after(r));  // no trace at all
    FlowTrace t;
    t.stop = PathStop::silent;
    t.stop_ttl = 5;
    t.stop_hop = IpAddress::parse("172.20.1.2");
    t.stop_network = "kent-nhs";
    r.flows.push_back(t);
    auto b = blocked_after(r);
    REQUIRE(b);
    CHECK(b->ttl == 5);
    CHECK(describe(*b) == "after 172.20.1.2 (kent-nhs), hop 5");
    r.flows[0] = FlowTrace{};  // silent from TTL 1
    b = blocked_after(r);
    REQUIRE(b);
    CHECK(b->ttl == 0);
    CHECK_FALSE(b->hop);
    CHECK(describe(*b) == "before any hop answered");
    r.flows[0].stop = PathStop::reached;
    r.flows[0].stop_ttl = 6;
    CHECK_FALSE(blocked_after(r));
}

TEST_CASE("networks: the list a trace crosses; a change counts after two reached rounds") {
    using V = std::vector<std::string>;
    FlowTrace t;
    auto hop = [](int ttl, const char* a, const char* net) {
        PathHop h;
        h.ttl = ttl;
        if (a) h.address = IpAddress::parse(a);
        h.network = net;
        return h;
    };
    t.hops = {hop(1, "10.31.1.1", "kent-nhs"),
              hop(2, nullptr, ""),
              hop(3, "172.20.100.2", "interconnect"),
              hop(4, "192.0.2.102", "psn-core"),
              hop(5, "192.0.2.9", "psn-core"),
              hop(6, "198.51.100.20", "kent-psn"),
              hop(7, "203.0.113.99", "")};
    CHECK(network_list(t) == V{"kent-nhs", "interconnect", "psn-core", "kent-psn"});
    const V main{"kent-nhs", "interconnect", "psn-core", "kent-psn"};
    const V backup{"kent-nhs", "interconnect-backup", "psn-core", "kent-psn"};
    const V gap{"kent-nhs", "psn-core", "kent-psn"};  // the interconnect silent this round
    CHECK(same_networks(main, gap));
    CHECK(same_networks(gap, main));
    CHECK_FALSE(same_networks(main, backup));
    CHECK_FALSE(same_networks(gap, V{"kent-psn", "psn-core"}));  // order matters

    NetworkPathTracker n;
    CHECK_FALSE(n.observe(main, true));
    CHECK_FALSE(n.observe(gap, true));  // a silent network is no change
    CHECK(n.current() == main);
    CHECK_FALSE(n.observe(backup, false));  // a round that did not arrive says nothing
    CHECK_FALSE(n.observe(backup, true));   // seen once
    CHECK_FALSE(n.observe(main, true));     // and back: no change
    CHECK_FALSE(n.observe(backup, true));
    CHECK(n.observe(backup, true));  // twice in a row: the path moved to the backup
    CHECK(n.current() == backup);
    CHECK_FALSE(n.observe(backup, true));
}
