#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "exporters/web_server.hpp"
#include "federation/loader.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;

namespace {

// A valid base; each bad-input case appends to it or swaps a piece.
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
)";

LoadResult load(const std::string& text, std::optional<std::string> site = std::nullopt) {
    return load_config_text(text, "fed.toml", site);
}

// The one diagnostic whose message contains `needle`; fails the test when there is none.
Diagnostic find(const LoadResult& r, const std::string& needle) {
    for (const auto& d : r.diagnostics)
        if (d.message.find(needle) != std::string::npos) return d;
    std::string all;
    for (const auto& d : r.diagnostics)
        all += d.format() + "\n";
    FAIL("no diagnostic contains '" << needle << "'; got:\n" << all);
    return {};
}

}  // namespace

TEST_CASE("the shipped example configs are valid") {
    for (const char* name : {"loopback.toml", "federation.toml"}) {
        CAPTURE(name);
        auto r = load_config_file(std::string(FEDPROBE_SOURCE_ROOT) + "/config/examples/" + name,
                                  std::nullopt);
        for (const auto& d : r.diagnostics)
            CHECK_MESSAGE(d.severity != Diagnostic::Severity::error, d.format());
        CHECK(r.config);
    }
}

TEST_CASE("a valid file gives the config with defaults and overrides") {
    auto r = load(kBase + R"(
[[targets]]
id = "surrey-epr"
network = "surrey-psn"
address = "198.51.100.10"
addresses_from = { kent-nhs = "10.31.9.9" }
probes = ["icmp", "tcp:https"]
timeout = "1s"
labels = { role = "epr" }
)");
    REQUIRE(r.config);
    CHECK(r.diagnostics.empty());
    const auto& t = r.config->targets.at(0);
    CHECK(t.interval == 10s);  // from [fedprobe]
    CHECK(t.timeout == 1s);
    CHECK(t.address_for("kent-nhs").str() == "10.31.9.9");
    CHECK(t.address_for("surrey-psn").str() == "198.51.100.10");
    CHECK(t.probes().size() == 2);
    CHECK(t.labels().at("role") == "epr");
    CHECK(r.config->settings.listen.str() == "127.0.0.1:9641");
}

TEST_CASE("syntax errors carry toml++'s position") {
    auto r = load("[fedprobe]\nsite = \"kent-nhs\n");
    CHECK_FALSE(r.config);
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].line == 2);
    CHECK(r.diagnostics[0].format().starts_with("fed.toml:2:"));
}

TEST_CASE("unknown keys are errors with a suggestion") {
    auto r = load(kBase +
                  "\n[[targets]]\nid = \"x\"\nnetwork = \"surrey-psn\"\naddress = "
                  "\"198.51.100.1\"\nprobes = [\"icmp\"]\nintervall = \"5s\"\n");
    CHECK_FALSE(r.config);
    auto d = find(r, "unknown key 'intervall'");
    CHECK(d.message.find("did you mean 'interval'") != std::string::npos);
    CHECK(d.line == 24);
    CHECK(d.column == 1);
}

TEST_CASE("wrong types name what was expected and what was found") {
    auto r = load(kBase +
                  "\n[[targets]]\nid = \"x\"\nnetwork = \"surrey-psn\"\naddress = "
                  "\"198.51.100.1\"\nprobes = \"icmp\"\n");
    auto d = find(r, "'probes' in target 'x' must be an array of strings, not a string");
    CHECK(d.line == 23);
    CHECK(d.column == 10);
}

TEST_CASE("duplicate ids point at the second and name the first") {
    auto text = kBase + "\n[[networks]]\nid = \"kent-nhs\"\n";
    auto r = load(text);
    auto d = find(r, "duplicate network id 'kent-nhs' (first declared at line 6)");
    CHECK(d.line == 20);
    CHECK(d.column == 6);
}

TEST_CASE("references to unknown networks and services") {
    auto r = load(kBase + R"(
[[targets]]
id = "a"
network = "brighton-psn"
address = "198.51.100.1"
probes = ["icmp"]

[[targets]]
id = "b"
network = "surrey-psn"
address = "198.51.100.2"
probes = ["tcp:rdp", "tcp:dns", "gopher", "smtp"]
)");
    CHECK(find(r, "network 'brighton-psn' is not declared").line == 21);
    auto svc = find(r, "service 'rdp' is not declared in [services]");
    CHECK(svc.line == 29);
    CHECK(svc.column == 11);
    CHECK(find(r, "service 'dns' is udp, not tcp").column == 22);
    CHECK(find(r, "probe kind 'gopher' is not one of").line == 29);
    CHECK(find(r, "probe 'smtp' needs a service, e.g. smtp:https").column == 43);
}

TEST_CASE("malformed addresses, prefixes, durations and ports") {
    auto r = load(R"([fedprobe]
site = "kent-nhs"
timeout = "2 seconds"

[[networks]]
id = "kent-nhs"
prefixes = ["10.31.0.0/33"]

[services]
https = { proto = "tcp", port = 70000 }

[[targets]]
id = "a"
network = "kent-nhs"
address = "10.31.0.300"
probes = ["icmp"]
)");
    CHECK_FALSE(r.config);
    CHECK(find(r, "'2 seconds' is not a duration").line == 3);
    CHECK(find(r, "'10.31.0.0/33' is not an IPv4/IPv6 prefix").line == 7);
    auto port = find(r, "'port' in service 'https' is 70000, outside 1..65535");
    CHECK(port.line == 10);
    CHECK(port.column == 33);
    CHECK(find(r, "'10.31.0.300' is not a literal IPv4/IPv6 address").line == 15);
}

TEST_CASE("an address outside its network's prefixes is a warning, not an error") {
    auto r = load(kBase +
                  "\n[[targets]]\nid = \"a\"\nnetwork = \"surrey-psn\"\naddress = "
                  "\"203.0.113.5\"\nprobes = [\"icmp\"]\n");
    CHECK(r.config);
    auto d = find(r, "address 203.0.113.5 is outside the prefixes of network 'surrey-psn'");
    CHECK(d.severity == Diagnostic::Severity::warning);
    CHECK(d.line == 22);
}

TEST_CASE("overlapping prefixes between networks are a warning") {
    auto r = load(kBase + "\n[[networks]]\nid = \"surrey-nhs\"\nprefixes = [\"10.0.0.0/8\"]\n");
    CHECK(r.config);
    auto d = find(r, "prefix 10.0.0.0/8 overlaps 10.31.0.0/16 of network 'kent-nhs'");
    CHECK(d.severity == Diagnostic::Severity::warning);
    CHECK(d.line == 21);
    CHECK(d.column == 13);
    // One warning per pair of networks; none for an uplink's /32 inside another's range.
    auto more = load(kBase +
                     "\n[[networks]]\nid = \"surrey-nhs\"\nprefixes = [\"10.0.0.0/8\", "
                     "\"10.31.5.0/24\", \"198.51.100.7/32\"]\n");
    REQUIRE(more.config);
    int warnings = 0;
    for (const auto& w : more.diagnostics)
        warnings += w.message.find("overlaps") != std::string::npos;
    CHECK(warnings == 1);
}

TEST_CASE("the site must be a declared network, from the file or --site") {
    std::string text = kBase;
    text.replace(text.find("site = \"kent-nhs\""), 17, "site = \"kent\"");
    auto r = load(text);
    auto d = find(r, "site 'kent' is not a declared network");
    CHECK(d.line == 2);
    CHECK(d.column == 8);

    auto over = load(kBase, std::string("nowhere"));
    CHECK(find(over, "--site: site 'nowhere' is not a declared network").line == 0);
    CHECK(load(kBase, std::string("surrey-psn")).config->settings.site == "surrey-psn");
}

TEST_CASE("every problem is reported, not only the first") {
    auto r = load(R"([fedprobe]
site = "kent-nhs"
listen = "9641"
rate_limit = 0

[[networks]]
id = "Kent_NHS"

[[networks]]
id = "kent-nhs"
kind = "hospital"
)");
    CHECK(r.diagnostics.size() >= 4);
    find(r, "listen '9641' is not ADDRESS:PORT");
    find(r, "'rate_limit' in [fedprobe] must be greater than 0");
    find(r, "id 'Kent_NHS' must match [a-z0-9-]+");
    find(r, "kind 'hospital' is not one of nhs, psn, other");
}

TEST_CASE("labels must be valid and not clash with fedprobe's own") {
    auto r = load(
        kBase +
        "\n[[targets]]\nid = \"a\"\nnetwork = \"surrey-psn\"\naddress = \"198.51.100.1\"\nprobes = "
        "[\"icmp\"]\nlabels = { site = \"x\", \"bad-name\" = \"y\" }\n");
    find(r, "label 'site' is set by fedprobe itself");
    find(r, "label name 'bad-name' is not a valid Prometheus label name");
}

TEST_CASE("basic auth users need bcrypt hashes") {
    auto r = load(kBase + "\n[fedprobe.web]\nbasic_auth_users = { prometheus = \"secret\" }\n");
    CHECK(find(r, "must be a bcrypt hash").line == 20);
}

TEST_CASE("web.allow: IPv4 and IPv6 addresses and prefixes, plain or over TLS") {
    auto good = load(kBase + "\n[fedprobe.web]\nallow = [\"10.20.0.5\", \"10.20.1.0/24\"]\n");
    REQUIRE(good.config);
    REQUIRE(good.config->settings.web.allow.size() == 2);
    CHECK(good.config->settings.web.allow[1].str() == "10.20.1.0/24");
    auto v6 = load(kBase + "\n[fedprobe.web]\nallow = [\"2001:db8::/64\", \"::1\"]\n");
    REQUIRE(v6.config);
    CHECK(v6.config->settings.web.allow[0].str() == "2001:db8::/64");
    auto bad = load(kBase + "\n[fedprobe.web]\nallow = [\"prometheus\", \"2001:db8::/64\"]\n");
    CHECK_FALSE(bad.config);
    CHECK(find(bad, "'prometheus' is not an address or prefix").line == 20);
}

TEST_CASE("a missing file is an error, not a crash") {
    auto r = load_config_file("/nonexistent/fed.toml", std::nullopt);
    CHECK_FALSE(r.config);
    CHECK(r.diagnostics.at(0).message == "cannot open the file: No such file or directory");
}

TEST_CASE("flows: unknown references, no site, bad expectations, contradictions") {
    auto r = load(kBase + R"(
[[targets]]
id = "epr"
network = "surrey-psn"
address = "198.51.100.10"
probes = ["icmp"]

[[flows]]
from = []
to = "epr"
service = "https"
expect = "allow"

[[flows]]
from = ["atlantis"]
to = "nowhere"
service = "gopher"
expect = "maybe"

[[flows]]
id = "epr-web"
from = ["kent-nhs"]
to = "surrey-psn"
service = "https"
expect = "allow"

[[flows]]
id = "epr-web-closed"
from = "kent-nhs"
to = "epr"
service = "https"
expect = "deny"
)");
    CHECK_FALSE(r.config);
    CHECK(find(r, "flow has no site in 'from'").line == 25);
    CHECK(find(r, "from names 'atlantis', which is not a declared network").line == 32);
    CHECK(find(r, "to 'nowhere' is neither a target nor a network").line == 33);
    CHECK(find(r, "service 'gopher' is not declared").line == 34);
    CHECK(find(r, "expect 'maybe' is not allow or deny").line == 35);
    auto clash = find(
        r, "flow 'epr-web-closed' expects deny for kent-nhs -> epr https, but the flow at line 37");
    CHECK(clash.line == 44);
}

TEST_CASE("udp payload and expected reply; a broken pattern is located") {
    auto r = load(kBase +
                  "\n[[targets]]\nid = \"echo\"\nnetwork = \"surrey-psn\"\naddress = "
                  "\"198.51.100.7\"\nprobes = [\"udp:dns\"]\nudp = { payload = \"PING\", expect = "
                  "\"^PONG(\" }\n");
    auto d = find(r, "udp: expect '^PONG(' is not a regular expression");
    CHECK(d.line == 24);
    auto ok = load(kBase +
                   "\n[[targets]]\nid = \"echo\"\nnetwork = \"surrey-psn\"\naddress = "
                   "\"198.51.100.7\"\nprobes = [\"udp:dns\"]\nudp = { payload = \"PING\", expect = "
                   "\"^PONG\" }\n");
    REQUIRE(ok.config);
    REQUIRE(ok.config->targets[0].options_for<UdpKind>());
    CHECK(ok.config->targets[0].options_for<UdpKind>()->payload == "PING");
    CHECK(ok.config->targets[0].options_for<UdpKind>()->expect == "^PONG");
}

TEST_CASE("http: a url for 'http', options checked and located") {
    const std::string target =
        "\n[[targets]]\nid = \"epr\"\nnetwork = \"surrey-psn\"\naddress = \"198.51.100.7\"\n";
    auto ok = load(kBase + target +
                   "probes = [\"http\", \"http:https\"]\nhttp = { url = "
                   "\"https://epr.surrey.gov.uk/health\", status = [200, 204], body_regex = "
                   "\"^ok\", method = \"HEAD\", verify = false }\n");
    REQUIRE(ok.config);
    REQUIRE(ok.config->targets[0].options_for<HttpKind>());
    const HttpOptions& h = *ok.config->targets[0].options_for<HttpKind>();
    CHECK(h.url == "https://epr.surrey.gov.uk/health");
    CHECK(h.status == std::vector<int>{200, 204});
    CHECK(h.body_regex == "^ok");
    CHECK(h.method == "HEAD");
    CHECK_FALSE(h.verify);
    CHECK(ok.config->targets[0].probes()[1].str() == "http:https");

    auto no_url = load(kBase + target + "probes = [\"http\"]\n");
    CHECK(find(no_url, "probe 'http' needs a url").line == 19);

    auto bad = load(kBase + target +
                    "probes = [\"http:https\"]\nhttp = { url = \"ftp://x/\", status = [200, 999], "
                    "body_regex = \"(\", method = \"POST\", path = \"health\" }\n");
    CHECK_FALSE(bad.config);
    CHECK(find(bad, "url 'ftp://x/' must be http:// or https://").line == 24);
    CHECK(find(bad, "status holds HTTP status codes").column > 1);
    find(bad, "body_regex '(' is not a regular expression");
    find(bad, "method 'POST' is not GET or HEAD");
    find(bad, "path 'health' must start with /");

    auto creds = load(kBase + target +
                      "probes = [\"http\"]\nhttp = { url = \"https://user:pw@epr.lab:8443/\" }\n");
    find(creds, "must not carry credentials");
    auto port =
        load(kBase + target + "probes = [\"http\"]\nhttp = { url = \"https://epr.lab:99999/\" }\n");
    find(port, "has a port that is not 1..65535");

    auto key_only =
        load(kBase + target + "probes = [\"http:https\"]\nhttp = { client_key = \"/k.pem\" }\n");
    find(key_only, "client_key without client_cert");

    auto udp = load(kBase + target + "probes = [\"http:dns\"]\n");
    find(udp, "service 'dns' is udp, not tcp");
}

TEST_CASE("http: a CA file that cannot be read is a warning where it is named") {
    auto r = load(kBase +
                  "\n[[targets]]\nid = \"epr\"\nnetwork = \"surrey-psn\"\naddress = "
                  "\"198.51.100.7\"\nprobes = [\"http:https\"]\nhttp = { ca_file = "
                  "\"/nonexistent/ca.pem\" }\n");
    REQUIRE(r.config);
    auto d = find(r, "ca_file '/nonexistent/ca.pem' cannot be read here");
    CHECK(d.severity == Diagnostic::Severity::warning);
    CHECK(d.line == 24);
}

TEST_CASE("options for a probe the target does not run are warned about where they are") {
    const std::string target =
        "\n[[targets]]\nid = \"epr\"\nnetwork = \"surrey-psn\"\naddress = \"198.51.100.7\"\n";
    auto r = load(kBase + target +
                  "probes = [\"tcp:https\"]\ndns = { name = \"epr.lab\" }\n"
                  "http = { url = \"https://epr.lab/\" }\n");
    REQUIRE(r.config);
    auto dns = find(r, "'dns' options are set, but no dns probe runs");
    CHECK(dns.severity == Diagnostic::Severity::warning);
    CHECK(dns.line == 24);
    CHECK(find(r, "'http' options are set, but no http probe runs").line == 25);

    auto url = load(kBase + target +
                    "probes = [\"http:https\"]\nhttp = { url = \"https://epr.lab/\", path = "
                    "\"/health\" }\n");
    REQUIRE(url.config);
    find(url, "http.url is fetched only by the probe \"http\"");
    auto host =
        load(kBase + target +
             "probes = [\"http\"]\nhttp = { url = \"https://epr.lab/\", host = \"x.lab\" }\n");
    find(host, "http.host is used only by \"http:SERVICE\" probes");
}

TEST_CASE("no site is an error with a place: the site key, or the top of the file") {
    const std::string nets = "[[networks]]\nid = \"a\"\nprefixes = [\"127.0.0.0/8\"]\n";
    auto no_table = find(load(nets), "no site");
    CHECK(no_table.line == 1);
    CHECK(no_table.column == 1);
    CHECK(no_table.message.find("no [fedprobe] table") != std::string::npos);
    auto empty = find(load("[fedprobe]\nsite = \"\"\n" + nets), "no site");
    CHECK(empty.line == 2);
    auto absent = find(load("# comment\n[fedprobe]\ninterval = \"5s\"\n" + nets), "no site");
    CHECK(absent.line == 2);
    CHECK(load(nets, std::string("a")).config);  // --site is enough
}

TEST_CASE("a long or hostile key is echoed short and escaped, not whole") {
    std::string key(1'000'000, 'k');
    auto r = load(kBase + "\n[fedprobe.web]\n" + key + " = 1\n");
    auto d = find(r, "unknown key");
    CHECK(d.message.size() < 200);
    CHECK(d.message.find("...(1000000 bytes)") != std::string::npos);
    auto esc = find(load(kBase + "\n[fedprobe.web]\n\"a\\u001b[31mb\\nc\" = 1\n"), "unknown key");
    CHECK(esc.message.find("'a\\x1b[31mb\\nc'") != std::string::npos);
    CHECK(esc.message.find('\x1b') == std::string::npos);
    CHECK(esc.message.find('\n') == std::string::npos);
}

TEST_CASE("[fedprobe.capture]: off when absent, defaults, and located mistakes") {
    auto none = load(kBase);
    REQUIRE(none.config);
    CHECK_FALSE(none.config->settings.capture);

    auto on = load(kBase + "\n[fedprobe.capture]\ninterfaces = [\"eth1\", \"eth2.100\"]\n");
    REQUIRE(on.config);
    REQUIRE(on.config->settings.capture);
    CHECK(on.config->settings.capture->interfaces == std::vector<std::string>{"eth1", "eth2.100"});
    CHECK(on.config->settings.capture->max_flows == 65536);
    CHECK(on.config->settings.capture->handshake_timeout == 3s);

    auto set = load(kBase +
                    "\n[fedprobe.capture]\ninterfaces = [\"eth1\"]\nmax_flows = 200000\n"
                    "handshake_timeout = \"5s\"\n");
    REQUIRE(set.config);
    CHECK(set.config->settings.capture->max_flows == 200000);
    CHECK(set.config->settings.capture->handshake_timeout == 5s);

    const int at = static_cast<int>(std::count(kBase.begin(), kBase.end(), '\n')) + 2;
    auto bad = load(kBase +
                    "\n[fedprobe.capture]\ninterfaces = [\"eth1\", \"a very long name\", "
                    "\"eth1\"]\nmax_flows = 10\nhandshake_timeout = \"10ms\"\nsnaplen = 1500\n");
    CHECK_FALSE(bad.config);
    CHECK(find(bad, "'a very long name' is not an interface name").line == at + 1);
    CHECK(find(bad, "interface 'eth1' is listed twice").line == at + 1);
    CHECK(find(bad, "'max_flows' in [fedprobe.capture] is 10, outside 1024..").line == at + 2);
    CHECK(find(bad, "handshake_timeout must be between 100ms and 60s").line == at + 3);
    CHECK(find(bad, "snaplen").line == at + 4);  // fixed at headers only: not a key

    auto empty = load(kBase + "\n[fedprobe.capture]\n");
    CHECK_FALSE(empty.config);
    find(empty, "[fedprobe.capture] has no 'interfaces'");
}

TEST_CASE("[targets.idle]: defaults, and every mistake located") {
    const std::string target =
        "\n[[targets]]\nid = \"a\"\nnetwork = \"surrey-psn\"\naddress = \"198.51.100.20\"\n";
    auto ok = load(kBase + target + "probes = [\"idle:https\"]\nidle = { required = \"1h\" }\n");
    REQUIRE(ok.config);
    const IdleOptions* o = ok.config->targets[0].options_for<IdleKind>();
    REQUIRE(o);
    CHECK(o->min == 30s);
    CHECK(o->max == std::chrono::minutes(124));
    CHECK(o->interval == std::chrono::hours(6));
    CHECK(o->required == std::chrono::hours(1));
    CHECK(o->sessions == 3);

    const int at = static_cast<int>(std::count(kBase.begin(), kBase.end(), '\n')) + 6;
    auto bad =
        load(kBase + target +
             "probes = [\"idle:https\", \"idle:dns\"]\n"
             "idle = { min = \"1500ms\", interval = \"10s\", sessions = 20, requird = \"1h\" }\n");
    CHECK_FALSE(bad.config);
    find(bad, "idle:dns");  // a udp service: idle needs tcp
    CHECK(find(bad, "min must be whole seconds, 1s to 24h, not 1500ms").line == at + 1);
    CHECK(find(bad, "interval must be whole seconds, 1m to 7 days, not 10s").line == at + 1);
    CHECK(find(bad, "'sessions' in target 'a': idle is 20, outside 1..16").line == at + 1);
    CHECK(find(bad, "requird").line == at + 1);

    auto order = load(kBase + target +
                      "probes = [\"idle:https\"]\nidle = { min = \"10s\", max = \"5s\" }\n");
    CHECK_FALSE(order.config);
    find(order, "min (10s) must be below max (5s)");
}

TEST_CASE("[fedprobe.stamp]: the reflector's settings, and every mistake located") {
    auto none = load(kBase);
    REQUIRE(none.config);
    CHECK_FALSE(none.config->settings.stamp);

    auto on = load(kBase +
                   "\n[fedprobe.stamp]\nlisten = [\"10.31.0.10:862\", \"[::1]:8620\"]\n"
                   "allow = [\"surrey-psn\", \"kent-nhs\"]\n");
    REQUIRE(on.config);
    const auto& st = *on.config->settings.stamp;
    REQUIRE(st.listen.size() == 2);
    CHECK(st.listen[0].str() == "10.31.0.10:862");
    CHECK(st.listen[1].port == 8620);
    // allow becomes the networks' prefixes.
    CHECK(st.allow ==
          std::vector<Prefix>{*Prefix::parse("198.51.100.0/24"), *Prefix::parse("10.31.0.0/16")});
    CHECK(st.stateful);
    CHECK_FALSE(st.key);
    CHECK(st.rate_limit == 100);

    const int at = static_cast<int>(std::count(kBase.begin(), kBase.end(), '\n')) + 2;
    auto bad = load(kBase +
                    "\n[fedprobe.stamp]\nlisten = [\"10.31.0.10:0\", \"nowhere:862\"]\n"
                    "allow = [\"sussex-nhs\"]\nmode = \"stateles\"\n"
                    "auth_key_file = \"/nonexistent/stamp.key\"\nrate = 5\n");
    CHECK_FALSE(bad.config);
    CHECK(find(bad, "port 0 is out of range").line == at + 1);
    CHECK(find(bad, "'nowhere:862' is not ADDRESS:PORT").line == at + 1);
    CHECK(find(bad, "allow names 'sussex-nhs', which is not a declared network").line == at + 2);
    CHECK(find(bad, "mode must be \"stateful\" or \"stateless\"").line == at + 3);
    CHECK(find(bad, "auth_key_file: cannot read /nonexistent/stamp.key").line == at + 4);
    CHECK(find(bad, "rate").line == at + 5);  // rate_limit, suggested

    auto empty = load(kBase + "\n[fedprobe.stamp]\n");
    CHECK_FALSE(empty.config);
    find(empty, "[fedprobe.stamp] has no 'listen'");
    find(empty, "[fedprobe.stamp] has no 'allow'");
}

TEST_CASE("[targets.stamp]: defaults, and every mistake located") {
    const std::string target =
        "\n[[targets]]\nid = \"a\"\nnetwork = \"surrey-psn\"\naddress = \"198.51.100.20\"\n";
    auto ok = load(kBase + target + "probes = [\"stamp\"]\nstamp = { dscp = 46 }\n");
    REQUIRE(ok.config);
    const StampOptions* o = ok.config->targets[0].options_for<StampKind>();
    REQUIRE(o);
    CHECK(o->packets == 10);
    CHECK(o->spacing == 100ms);
    CHECK(o->port == 862);
    CHECK(o->dscp == 46);
    CHECK(o->key.empty());

    const int at = static_cast<int>(std::count(kBase.begin(), kBase.end(), '\n')) + 6;
    auto bad = load(kBase + target +
                    "probes = [\"stamp\", \"stamp:https\"]\n"
                    "stamp = { port = 70000, dscp = 64, spacing = \"20s\", auth_key_file = "
                    "\"/nonexistent/k\", timestamp = \"gps\", reflector = \"half\" }\n");
    CHECK_FALSE(bad.config);
    find(bad, "stamp:https");  // the kind takes no service
    CHECK(find(bad, "'port' in target 'a': stamp is 70000, outside 1..65535").line == at + 1);
    CHECK(find(bad, "'dscp' in target 'a': stamp is 64, outside 0..63").line == at + 1);
    CHECK(find(bad, "spacing must be between 1ms and 10s").line == at + 1);
    CHECK(find(bad, "auth_key_file: cannot read /nonexistent/k").line == at + 1);
    CHECK(find(bad, "timestamp must be \"ntp\" or \"ptp\"").line == at + 1);
    CHECK(find(bad, "reflector must be \"stateful\" or \"stateless\"").line == at + 1);

    // A round that cannot end before the next starts is refused at load, not found at run time.
    // kBase's interval and timeout apply unless the target sets its own.
    auto fits = load(kBase + target +
                     "interval = \"5s\"\ntimeout = \"1s\"\nprobes = [\"stamp\"]\n"
                     "stamp = { packets = 40, spacing = \"100ms\" }\n");  // 3.9 + 1 s < 5 s
    CHECK(fits.config);
    auto overlong = load(kBase + target +
                         "interval = \"5s\"\ntimeout = \"1s\"\nprobes = [\"stamp\"]\n"
                         "stamp = { packets = 41, spacing = \"100ms\" }\n");  // 4 + 1 s
    CHECK_FALSE(overlong.config);
    CHECK(find(overlong,
               "target 'a': probe 'stamp' sends 41 packets 100ms apart and waits the timeout 1s "
               "for the last reply: a round of 5s does not fit in the interval 5s")
              .line == at - 4);
}

TEST_CASE("each appliance_address gives a target the other appliances trace") {
    const std::string text = R"([fedprobe]
site = "kent-nhs"
[fedprobe.stamp]
listen = ["0.0.0.0:862"]
allow = ["kent-nhs", "surrey-psn", "brighton-psn"]

[[networks]]
id = "kent-nhs"
prefixes = ["10.31.0.0/16"]
appliance_address = "10.31.1.10"

[[networks]]
id = "surrey-psn"
prefixes = ["198.51.100.0/24"]
appliance_address = "198.51.100.138"
appliance_addresses_from = { brighton-psn = "198.51.100.139" }

[[networks]]
id = "brighton-psn"
prefixes = ["203.0.113.0/24"]
appliance_address = "203.0.113.10"

[[networks]]
id = "psn-core"
prefixes = ["192.0.2.0/24"]

[[targets]]                      # brighton's own, with STAMP: it wins over the derived one
id = "brighton-psn-appliance"
network = "brighton-psn"
address = "203.0.113.10"
probes = ["stamp"]
interval = "10s"
)";
    auto r = load(text);
    for (const auto& d : r.diagnostics)
        CHECK_MESSAGE(d.severity != Diagnostic::Severity::error, d.format());
    REQUIRE(r.config);
    const Target* kent = r.config->target("kent-nhs-appliance");
    const Target* surrey = r.config->target("surrey-psn-appliance");
    const Target* brighton = r.config->target("brighton-psn-appliance");
    REQUIRE(kent);
    REQUIRE(surrey);
    REQUIRE(brighton);
    CHECK(r.config->target("psn-core-appliance") == nullptr);  // no appliance there
    CHECK(kent->address.str() == "10.31.1.10");
    CHECK(kent->from_sites() == std::vector<std::string>{"surrey-psn", "brighton-psn"});
    CHECK_FALSE(kent->probed_from("kent-nhs"));  // never its own
    CHECK_FALSE(kent->flow_destination);         // an appliance serves none of the policy's flows
    std::vector<std::string> probes;
    for (const auto& p : kent->probes())
        probes.push_back(p.str());
    CHECK(probes == std::vector<std::string>{"path", "stamp"});
    REQUIRE(kent->options_for<PathKind>());
    CHECK(kent->options_for<PathKind>()->method ==
          std::optional(PathMethod::icmp));  // no port to open
    CHECK(kent->options_for<PathKind>()->interval == std::optional<Duration>(15s));  // [fedprobe]'s
    CHECK(kent->interval == 15s);                                          // STAMP's, at least 10 s
    CHECK(surrey->address_for("brighton-psn").str() == "198.51.100.139");  // NAT, as addresses_from
    CHECK(surrey->address_for("kent-nhs").str() == "198.51.100.138");
    CHECK(brighton->probes().size() == 1);  // the explicit one
    CHECK(brighton->from_sites().empty());

    // Without a STAMP reflector in the federation, the derived targets only trace.
    std::string no_stamp = text;
    // A 1 s interval: the traces keep it, STAMP gets 10 s (a round of 10 packets 100 ms apart).
    {
        std::string fast = text;
        fast.replace(fast.find("site = \"kent-nhs\"\n"), 18,
                     "site = \"kent-nhs\"\ninterval = \"1s\"\ntimeout = \"700ms\"\n");
        auto f = load(fast);
        for (const auto& d : f.diagnostics)
            CHECK_MESSAGE(d.severity != Diagnostic::Severity::error, d.format());
        REQUIRE(f.config);
        const Target* k = f.config->target("kent-nhs-appliance");
        REQUIRE(k);
        CHECK(k->interval == 10s);
        CHECK(k->options_for<PathKind>()->interval == std::optional<Duration>(1s));
    }
    no_stamp.erase(no_stamp.find("[fedprobe.stamp]"),
                   no_stamp.find("[[networks]]") - no_stamp.find("[fedprobe.stamp]"));
    auto q = load(no_stamp);
    REQUIRE(q.config);
    REQUIRE(q.config->target("kent-nhs-appliance"));
    CHECK(q.config->target("kent-nhs-appliance")->probes().size() == 1);
}

TEST_CASE("appliance_address errors say where and why") {
    CHECK(find(load(kBase + "[[networks]]\nid = \"x\"\nappliance_address = \"10.0.0.300\"\n"),
               "appliance_address: '10.0.0.300' is not a literal")
              .line == 20);
    find(load(kBase +
              "[[networks]]\nid = \"x\"\nappliance_addresses_from = { kent-nhs = \"10.1.1.1\" }\n"),
         "appliance_addresses_from needs appliance_address");
    find(load(kBase + "[[networks]]\nid = \"x\"\nprefixes = [\"10.9.0.0/16\"]\nappliance_address = "
                      "\"10.1.1.1\"\n"),
         "outside the network's prefixes");
}

TEST_CASE("the config's SHA-256 is of the file's bytes: a comment changes it") {
    auto a = load(kBase);
    REQUIRE(a.config);
    // sha256sum of kBase's bytes
    CHECK(a.config->sha256 == "0d7a6baa4c0c27a84ce1bfd1267196f326b2a636c141ece8a665992c58801736");
    auto b = load(kBase + "# approved by the change board\n");
    REQUIRE(b.config);
    CHECK(b.config->sha256 != a.config->sha256);
    CHECK(b.config->sha256.size() == 64);
}

TEST_CASE(
    "a service's application check: allow flows use it, deny flows connect, bad ones located") {
    // kBase ends inside [services]: these lines add to it.
    std::string text = kBase +
                       "hl7 = { proto = \"tcp\", port = 2575, check = \"mllp\" }\n"
                       "pacs = { proto = \"tcp\", port = 104, check = \"dicom\" }\n";
    auto r = load(text + R"(
[[targets]]
id = "engine"
network = "surrey-psn"
address = "198.51.100.10"
probes = []
mllp = { accept = ["AA", "AE"] }
dicom = { called_ae = "PACS1" }

[[flows]]
from = ["kent-nhs"]
to = "engine"
service = "hl7"
expect = "allow"

[[flows]]
from = ["kent-nhs"]
to = "engine"
service = "pacs"
expect = "deny"
)");
    REQUIRE(r.config);
    const auto& flows = r.config->flows;
    REQUIRE(flows.size() == 2);
    CHECK(flows[0].probe.name() == "mllp");
    CHECK(flows[1].probe.name() == "tcp");  // a deny flow asks only whether the way is shut

    auto bad = load(kBase + R"(
a = { proto = "tcp", port = 1, check = "ldapx" }
b = { proto = "udp", port = 2, check = "mllp" }
c = { proto = "tcp", port = 3, check = "udp" }
)");
    CHECK_FALSE(bad.config);
    CHECK(find(bad, "service 'a': check 'ldapx' is not a kind that checks a tcp service").line > 0);
    CHECK(find(bad, "service 'b': check 'mllp' is not a kind that checks a udp service").line > 0);
    CHECK(find(bad, "service 'c': check 'udp'").line > 0);

    auto keys = load(kBase + R"(
[[targets]]
id = "engine"
network = "surrey-psn"
address = "198.51.100.10"
probes = ["mllp:https", "dicom:https"]
mllp = { message = "hello", accept = ["AA", "ZZ"] }
dicom = { called_ae = "A\\B", calling_ae = "SEVENTEEN-CHARS-X" }
)");
    CHECK_FALSE(keys.config);
    CHECK(find(keys, "mllp.message must be an HL7 v2 message beginning with its MSH").line > 0);
    CHECK(find(keys, "mllp.accept: ZZ is not an acknowledgement code").line > 0);
    CHECK(find(keys, "dicom.called_ae 'A\\B' is not an AE title").line > 0);
    CHECK(find(keys, "dicom.calling_ae 'SEVENTEEN-CHARS-X' is not an AE title").line > 0);
}

TEST_CASE("[fedprobe.web.tls]: exporter-toolkit's fields, each mistake located") {
    auto with = [](const std::string& tls) {
        std::string text = kBase;
        text.replace(text.find("[[networks]]"), 0, "[fedprobe.web.tls]\n" + tls + "\n");
        return load(text);
    };
    auto ok = with(
        "cert_file = \"/dev/null\"\nkey_file = \"/dev/null\"\n"
        "client_auth_type = \"RequireAnyClientCert\"\nmin_version = \"TLS13\"\n"
        "cipher_suites = [\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\"]");
    REQUIRE(ok.config);
    REQUIRE(ok.config->settings.web.tls);
    CHECK(ok.config->settings.web.tls->client_auth == ClientAuth::require_any);
    CHECK(ok.config->settings.web.tls->tls13_only);

    auto bad = with(
        "cert_file = \"/dev/null\"\nclient_auth_type = \"Maybe\"\n"
        "min_version = \"TLS10\"\ncipher_suites = [\"RC4-MD5\"]");
    CHECK_FALSE(bad.config);
    CHECK(find(bad, "needs both cert_file and key_file").line > 0);
    CHECK(find(bad, "client_auth_type 'Maybe' is not NoClientCert").line > 0);
    CHECK(find(bad, "min_version 'TLS10' is not TLS12 or TLS13").line > 0);
    CHECK(find(bad, "cipher_suites: 'RC4-MD5' is not a TLS 1.2 AEAD suite").line > 0);

    auto no_ca = with(
        "cert_file = \"/dev/null\"\nkey_file = \"/dev/null\"\n"
        "client_auth_type = \"RequireAndVerifyClientCert\"");
    CHECK_FALSE(no_ca.config);
    CHECK(find(no_ca, "verifies client certificates, so it needs client_ca_file").line > 0);
}

TEST_CASE("[fedprobe.web.tls]: min_version and cipher_suites as GnuTLS priorities") {
    WebTlsConfig c;
    CHECK(gnutls_priorities(c) == "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2");
    c.tls13_only = true;
    CHECK(gnutls_priorities(c) == "NORMAL:-VERS-ALL:+VERS-TLS1.3");
    c.tls13_only = false;
    c.cipher_suites = {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                       "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305"};
    CHECK(gnutls_priorities(c) ==
          "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-KX-ALL:+ECDHE-RSA:+ECDHE-ECDSA:-CIPHER-ALL:"
          "+AES-256-GCM:+CHACHA20-POLY1305");
}
