#include <doctest/doctest.h>

#include <string>

#include "engine/jobs.hpp"
#include "federation/loader.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;

namespace {

const std::string kBase = R"([fedprobe]
site = "kent-nhs"
interval = "10s"

[[networks]]
id = "kent-nhs"
kind = "nhs"
prefixes = ["10.31.0.0/16"]

[[networks]]
id = "surrey-psn"
kind = "psn"
prefixes = ["198.51.100.0/24"]

[services]
https = { proto = "tcp", port = 443 }
dns = { proto = "udp", port = 53 }

[[targets]]
id = "svc"
network = "surrey-psn"
address = "198.51.100.20"
)";

LoadResult load(const std::string& tail) {
    return load_config_text(kBase + tail, "fed.toml", std::nullopt);
}

const Diagnostic* find(const LoadResult& r, const std::string& needle) {
    for (const auto& d : r.diagnostics)
        if (d.message.find(needle) != std::string::npos) return &d;
    return nullptr;
}

}  // namespace

TEST_CASE("path defaults: udp to 33434, 60 s interval, path:SERVICE takes the service's port") {
    auto r = load("probes = [\"path\", \"path:https\", \"path:dns\"]\n");
    REQUIRE(r.config);
    auto jobs = build_jobs(*r.config);
    REQUIRE(jobs.size() == 3);
    const auto& plain = jobs[0].request.as<PathKind>();
    CHECK(plain.method == PathMethod::udp);
    CHECK(plain.max_ttl == 30);
    CHECK(plain.attempts == 2);
    CHECK(plain.gap_limit == 5);
    CHECK(plain.flows == 1);
    CHECK(jobs[0].request.port == 33434);
    CHECK(jobs[0].interval == 60s);
    CHECK(jobs[1].request.as<PathKind>().method == PathMethod::tcp);
    CHECK(jobs[1].request.port == 443);
    CHECK(jobs[2].request.as<PathKind>().method == PathMethod::udp);
    CHECK(jobs[2].request.port == 53);
    // Other kinds keep the target's interval.
    auto other = load("probes = [\"tcp:https\"]\n");
    REQUIRE(other.config);
    CHECK(build_jobs(*other.config)[0].interval == 10s);
}

TEST_CASE("path options are read, icmp and tcp methods get their ports") {
    auto r = load(
        "probes = [\"path\"]\n[targets.path]\nmethod = \"tcp\"\nmax_ttl = 12\nattempts = 3\n"
        "gap_limit = 2\nflows = 4\ninterval = \"5m\"\nrouter_spacing = \"5ms\"\n");
    REQUIRE(r.config);
    auto jobs = build_jobs(*r.config);
    const auto& p = jobs[0].request.as<PathKind>();
    CHECK(p.method == PathMethod::tcp);
    CHECK(jobs[0].request.port == 80);
    CHECK(p.max_ttl == 12);
    CHECK(p.attempts == 3);
    CHECK(p.gap_limit == 2);
    CHECK(p.flows == 4);
    CHECK(p.router_spacing == 5ms);
    CHECK(jobs[0].interval == 300s);
    auto icmp = load("probes = [\"path\"]\n[targets.path]\nmethod = \"icmp\"\n");
    REQUIRE(icmp.config);
    CHECK(build_jobs(*icmp.config)[0].request.port == 0);
}

TEST_CASE("bad path input: located errors") {
    struct Case {
        std::string tail, needle;
        int line;
    };
    const int base = 23;  // the line "probes = ..." lands on
    for (const auto& c : std::vector<Case>{
             {"probes = [\"path\"]\n[targets.path]\nmax_ttl = 65\n", "max_ttl", base + 2},
             {"probes = [\"path\"]\n[targets.path]\nmax_ttl = 0\n", "max_ttl", base + 2},
             {"probes = [\"path\"]\n[targets.path]\nflows = 17\n", "flows", base + 2},
             {"probes = [\"path\"]\n[targets.path]\nflows = 0\n", "flows", base + 2},
             {"probes = [\"path\"]\n[targets.path]\nattempts = 5\n", "attempts", base + 2},
             {"probes = [\"path\"]\n[targets.path]\nmethod = \"sctp\"\n",
              "method 'sctp' is not one of udp, icmp, tcp", base + 2},
             {"probes = [\"path\"]\n[targets.path]\nmax_tll = 5\n", "did you mean 'max_ttl'",
              base + 2},
             {"probes = [\"path:hl7\"]\n", "service 'hl7' is not declared", base},
         }) {
        CAPTURE(c.tail);
        auto r = load(c.tail);
        CHECK_FALSE(r.config);
        const Diagnostic* d = find(r, c.needle);
        REQUIRE(d != nullptr);
        CHECK(d->line == c.line);
    }
}

TEST_CASE("path MTU options: read, and refused where they could never take effect") {
    auto ok = load(
        "probes = [\"path:https\"]\n[targets.path]\nmtu = true\nmtu_every = 3\n"
        "min_mtu = 1400\nmin_mss = 1300\n");
    REQUIRE(ok.config);
    for (const auto& c : std::vector<std::pair<std::string, std::string>>{
             {"need path.mtu = true", "probes = [\"path\"]\n[targets.path]\nmin_mtu = 1400\n"},
             {"need path.mtu = true", "probes = [\"path\"]\n[targets.path]\nmtu_every = 2\n"},
             {"path.min_mss needs tcp traces",
              "probes = [\"path\"]\n[targets.path]\nmin_mss = 1300\n"},
             {"min_mtu", "probes = [\"path\"]\n[targets.path]\nmtu = true\nmin_mtu = 20\n"},
         }) {
        // Not a structured binding: clang 14 cannot capture one in CAPTURE's lambda.
        const auto& [needle, tail] = c;
        CAPTURE(c.second);
        auto r = load(tail);
        CHECK_FALSE(r.config);
        CHECK(find(r, needle) != nullptr);
    }
    auto tcp = load("probes = [\"path\"]\n[targets.path]\nmethod = \"tcp\"\nmin_mss = 1300\n");
    CHECK(tcp.config);
}
