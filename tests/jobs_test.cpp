#include <doctest/doctest.h>

#include "engine/jobs.hpp"
#include "federation/loader.hpp"

using namespace fedprobe;

namespace {
const char* kConfig = R"([fedprobe]
site = "kent-nhs"
[[networks]]
id = "kent-nhs"
[[networks]]
id = "surrey-psn"
[services]
https = { proto = "tcp", port = 443 }
[[targets]]
id = "epr"
network = "surrey-psn"
address = "198.51.100.10"
addresses_from = { kent-nhs = "10.10.0.10" }
probes = ["icmp", "tcp:https"]
labels = { role = "epr" }
[[targets]]
id = "only-from-surrey"
network = "surrey-psn"
address = "198.51.100.11"
probes = ["icmp"]
from = ["surrey-psn"]
[[targets]]
id = "off"
network = "surrey-psn"
address = "198.51.100.12"
probes = ["icmp"]
enabled = false
)";
}  // namespace

TEST_CASE("jobs: per-site addresses, from-site filters, disabled targets, static labels") {
    auto r = load_config_text(kConfig, "t.toml", std::nullopt);
    REQUIRE(r.config);
    auto jobs = build_jobs(*r.config);
    REQUIRE(jobs.size() == 2);
    CHECK(jobs[0].key() == "epr/icmp");
    CHECK(jobs[1].key() == "epr/tcp:https");
    CHECK(jobs[1].request.port == 443);
    CHECK(jobs[1].request.destination.str() ==
          "10.10.0.10");  // the address behind NAT, as this site sees it
    CHECK(jobs[1].labels().at("role") == "epr");
    CHECK(jobs[1].labels().at("service") == "https");
    CHECK(jobs[0].labels().at("service") == "");
}

TEST_CASE("the same file run as another site gives that site's jobs") {
    auto r = load_config_text(kConfig, "t.toml", std::string("surrey-psn"));
    REQUIRE(r.config);
    auto jobs = build_jobs(*r.config);
    REQUIRE(jobs.size() == 3);
    CHECK(jobs[0].request.destination.str() == "198.51.100.10");
    CHECK(jobs[2].key() == "only-from-surrey/icmp");
    CHECK(jobs[2].labels().at("site") == "surrey-psn");
}

namespace {
const char* kFlows = R"([fedprobe]
site = "kent-psn"
[[networks]]
id = "kent-psn"
[[networks]]
id = "brighton-psn"
[[networks]]
id = "kent-nhs"
[services]
https = { proto = "tcp", port = 443 }
echo = { proto = "udp", port = 7 }
[[targets]]
id = "epr"
network = "kent-nhs"
address = "10.31.2.10"
probes = ["icmp"]
[[targets]]
id = "pacs"
network = "kent-nhs"
address = "10.31.2.20"
probes = ["icmp"]
[[flows]]
from = ["kent-psn", "brighton-psn"]
to = "kent-nhs"
service = "https"
expect = "allow"
[[flows]]
id = "echo-from-brighton"
from = "brighton-psn"
to = "epr"
service = "echo"
expect = "deny"
)";
}  // namespace

TEST_CASE("flows expand to every target of a network, only from their own sites") {
    auto r = load_config_text(kFlows, "t.toml", std::nullopt);
    REQUIRE(r.config);
    auto flows = build_flow_jobs(*r.config);
    REQUIRE(flows.size() == 2);  // kent-psn's flow to both kent-nhs targets; not brighton's
    CHECK(flows[0].key() == "flow:kent-nhs-https-from-kent-psn-brighton-psn/epr");
    CHECK(flows[1].target->id == "pacs");
    CHECK(flows[0].labels().at("expect") == "allow");
    CHECK(flows[0].labels().at("from") == "kent-psn");
    CHECK(flows[0].request.port == 443);

    auto b = load_config_text(kFlows, "t.toml", std::string("brighton-psn"));
    REQUIRE(b.config);
    auto from_brighton = build_flow_jobs(*b.config);
    REQUIRE(from_brighton.size() == 3);
    CHECK(from_brighton[2].key() == "flow:echo-from-brighton/epr");
    CHECK(from_brighton[2].spec->name() == "udp");
    CHECK(build_flow_jobs(*b.config, "echo").size() == 1);  // --flow PATTERN
    CHECK(build_jobs(*b.config).size() == 2 + 3);           // two icmp probes and three flows
}

TEST_CASE("a target with flows = false is no destination of the flows to its network") {
    std::string text = kFlows;
    text.replace(text.find("[[flows]]"), 0,
                 "[[targets]]\nid = \"kent-nhs-app\"\nnetwork = \"kent-nhs\"\n"
                 "address = \"10.31.1.10\"\nprobes = [\"stamp\"]\nflows = false\n");
    auto r = load_config_text(text, "t.toml", std::nullopt);
    REQUIRE(r.config);
    auto flows = build_flow_jobs(*r.config);
    REQUIRE(flows.size() == 2);  // epr and pacs, not the appliance
    CHECK(flows[0].target->id == "epr");
    CHECK(flows[1].target->id == "pacs");
    CHECK(build_jobs(*r.config).size() == 3 + 2);  // it is still probed itself
}

TEST_CASE("a udp flow sends the target's payload, but any reply will do") {
    auto r = load_config_text(R"([fedprobe]
site = "a"
[[networks]]
id = "a"
[[networks]]
id = "b"
[services]
echo = { proto = "udp", port = 7 }
[[targets]]
id = "echo"
network = "b"
address = "192.0.2.7"
probes = ["udp:echo"]
udp = { payload = "PING", expect = "^PONG" }
[[flows]]
from = "a"
to = "echo"
service = "echo"
expect = "allow"
)",
                              "t.toml", std::nullopt);
    REQUIRE(r.config);
    auto jobs = build_jobs(*r.config);
    REQUIRE(jobs.size() == 2);
    CHECK(jobs[0].request.as<UdpKind>().payload == "PING");  // the probe checks the answer
    CHECK(jobs[0].request.as<UdpKind>().expect == "^PONG");
    CHECK(jobs[1].flow != nullptr);  // the flow only asks whether the path is open
    CHECK(jobs[1].request.as<UdpKind>().payload == "PING");
    CHECK(jobs[1].request.as<UdpKind>().expect.empty());
    CHECK(jobs[1].request.port == 7);
}

TEST_CASE("http: the URL from the service or the url, pinned to the site's address") {
    auto r = load_config_text(std::string(kConfig) + R"(
[[targets]]
id = "portal"
network = "surrey-psn"
address = "198.51.100.20"
addresses_from = { kent-nhs = "10.10.0.20" }
probes = ["http:https", "http"]
http = { url = "https://portal.surrey.gov.uk/login", host = "portal.surrey.gov.uk", path = "/health", ca_file = "/etc/ssl/federation.pem" }
)",
                              "t.toml", std::nullopt);
    REQUIRE(r.config);
    auto jobs = build_jobs(*r.config);
    REQUIRE(jobs.size() == 4);
    const HttpParams& built = jobs[2].request.as<HttpKind>();
    CHECK(jobs[2].key() == "portal/http:https");
    CHECK(built.url == "https://portal.surrey.gov.uk:443/health");
    CHECK(jobs[2].request.destination.str() == "10.10.0.20");  // behind NAT, as kent-nhs sees it
    CHECK(built.ca_file == "/etc/ssl/federation.pem");
    CHECK(built.user_agent == std::string("fedprobe/") + FEDPROBE_VERSION + " (site kent-nhs)");
    CHECK(jobs[3].request.as<HttpKind>().url == "https://portal.surrey.gov.uk/login");
    CHECK(jobs[3].labels().at("probe") == "http");
    CHECK(jobs[3].labels().at("service") == "");
}

TEST_CASE("http: the scheme follows the port unless told, the host defaults to the address") {
    HttpOptions h;
    Service https{"https", Transport::tcp, 443, ""}, web{"web", Transport::tcp, 80, ""},
        alt{"alt", Transport::tcp, 8080, ""};
    auto v4 = *IpAddress::parse("198.51.100.20");
    auto v6 = *IpAddress::parse("2001:db8::20");
    CHECK(http_url_for(h, v4, &https) == "https://198.51.100.20:443/");
    CHECK(http_url_for(h, v4, &web) == "http://198.51.100.20:80/");
    CHECK(http_url_for(h, v6, &alt) == "http://[2001:db8::20]:8080/");
    h.tls = true;
    CHECK(http_url_for(h, v4, &web) == "https://198.51.100.20:80/");
    h.url = "https://named.example/";
    CHECK(http_url_for(h, v4, nullptr) == "https://named.example/");
}

TEST_CASE("targets with equal option tables and probe lists share one, as do equal params") {
    auto r = load_config_text(R"([fedprobe]
site = "kent-nhs"
[[networks]]
id = "kent-nhs"
[[networks]]
id = "surrey-psn"
[[targets]]
id = "a"
network = "surrey-psn"
address = "198.51.100.1"
probes = ["icmp"]
icmp = { packets = 1 }
[[targets]]
id = "b"
network = "surrey-psn"
address = "198.51.100.2"
probes = ["icmp"]
icmp = { packets = 1 }
[[targets]]
id = "c"
network = "surrey-psn"
address = "198.51.100.3"
probes = ["icmp"]
icmp = { packets = 5 }
)",
                              "t.toml", std::nullopt);
    REQUIRE(r.config);
    const auto& t = r.config->targets;
    using Box = Boxed<IcmpOptions>;
    CHECK(std::get<Box>(t[0].options).shares_with(std::get<Box>(t[1].options)));
    CHECK(!std::get<Box>(t[0].options).shares_with(std::get<Box>(t[2].options)));
    CHECK(t[2].options_for<IcmpKind>()->packets == 5);
    CHECK(t[0].probe_list.shares_with(t[2].probe_list));  // the same `probes = ["icmp"]`
    CHECK(t[2].probes().size() == 1);

    auto jobs = build_jobs(*r.config);
    REQUIRE(jobs.size() == 3);
    using Params = Boxed<IcmpParams>;
    CHECK(std::get<Params>(jobs[0].request.params)
              .shares_with(std::get<Params>(jobs[1].request.params)));
    CHECK(!std::get<Params>(jobs[0].request.params)
               .shares_with(std::get<Params>(jobs[2].request.params)));
    CHECK(jobs[0].request.as<IcmpKind>().packets == 1);
    CHECK(jobs[2].request.as<IcmpKind>().packets == 5);
    // A job that changes its params (as a trace does) changes only its own.
    jobs[1].request.params_of<IcmpKind>().packets = 9;
    CHECK(jobs[0].request.as<IcmpKind>().packets == 1);
    CHECK(jobs[1].request.as<IcmpKind>().packets == 9);
}

TEST_CASE("a flow's application check takes the target's keys, else its service's") {
    auto r = load_config_text(R"([fedprobe]
site = "kent-nhs"
[[networks]]
id = "kent-nhs"
[[networks]]
id = "surrey-psn"
[services]
hl7 = { proto = "tcp", port = 2575, check = "mllp", mllp = { accept = ["AA", "AE"] } }
[[targets]]
id = "engine"
network = "surrey-psn"
address = "198.51.100.10"
probes = []
[[targets]]
id = "strict-engine"
network = "surrey-psn"
address = "198.51.100.11"
probes = []
mllp = { accept = ["AA"] }
[[flows]]
from = ["kent-nhs"]
to = "surrey-psn"
service = "hl7"
expect = "allow"
)",
                              "t.toml", std::nullopt);
    REQUIRE(r.config);
    auto jobs = build_flow_jobs(*r.config);
    REQUIRE(jobs.size() == 2);
    CHECK(jobs[0].request.as<MllpKind>().accept == std::vector<std::string>{"AA", "AE"});
    CHECK(jobs[1].request.as<MllpKind>().accept == std::vector<std::string>{"AA"});
    CHECK(jobs[0].request.port == 2575);

    auto bad = load_config_text(R"([fedprobe]
site = "kent-nhs"
[[networks]]
id = "kent-nhs"
[services]
hl7 = { proto = "tcp", port = 2575, check = "mllp", mllp = { accept = ["ZZ"] }, dicom = {} }
)",
                                "t.toml", std::nullopt);
    CHECK_FALSE(bad.config);
    bool accept = false, key = false;
    for (const auto& d : bad.diagnostics) {
        accept |=
            d.message.find("mllp.accept: ZZ is not an acknowledgement code") != std::string::npos;
        key |= d.message.find("dicom") != std::string::npos;
    }
    CHECK(accept);
    CHECK(key);  // the other kind's table is not a key of this service
}
