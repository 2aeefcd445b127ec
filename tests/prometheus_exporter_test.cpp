#include <doctest/doctest.h>
#include <prometheus/text_serializer.h>

#include "exporters/prometheus_exporter.hpp"

using namespace fedprobe;

namespace {

// What /metrics serves; every test here also checks that it is, byte for byte, what
// prometheus-cpp's serializer makes of collect().
std::string scrape(const PrometheusExporter& e) {
    prometheus::TextSerializer s;
    std::string served;
    e.write_text(served);
    CHECK(served == s.Serialize(e.collect()));
    return served;
}

bool has(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

JobLabels job(const std::string& target, const std::string& probe, const std::string& service) {
    return JobLabels{target + "/" + probe,
                     {{"site", "kent-nhs"},
                      {"network", "surrey-psn"},
                      {"target", target},
                      {"probe", probe},
                      {"service", service}}};
}

}  // namespace

TEST_CASE("every job gets success, every outcome counter at zero, and a duration histogram") {
    PrometheusExporter e("1.2.3");
    e.sync_jobs({job("epr", "tcp", "https")});
    auto text = scrape(e);
    CHECK(has(text, "fedprobe_build_info{version=\"1.2.3\"} 1"));
    CHECK(has(text,
              "fedprobe_probe_success{network=\"surrey-psn\",probe=\"tcp\",service=\"https\",site="
              "\"kent-nhs\",target=\"epr\"} Nan"));
    // The outcomes a tcp probe can report, from the start; the others never appear for it.
    for (auto o : TcpKind::kOutcomes)
        CHECK(has(text, "outcome=\"" + std::string(to_string(o)) + "\",probe=\"tcp\""));
    CHECK_FALSE(has(text, "outcome=\"tls_error\",probe=\"tcp\""));
    CHECK(has(text, "fedprobe_probe_duration_seconds_bucket{"));
    CHECK_FALSE(has(text, "fedprobe_icmp_packets_sent_total{"));
    CHECK(has(text, "fedprobe_scheduled_probes 1"));
}

TEST_CASE("a failure sets last_error_info with the reporter; success removes it") {
    PrometheusExporter e("1");
    auto* epr = e.sync_jobs({job("epr", "tcp", "https")}).at(0);
    ProbeResult r;
    r.outcome = Outcome::prohibited;
    r.reporter = IpAddress::parse("198.51.100.1");
    e.record(epr, r, "psn-core");
    auto text = scrape(e);
    CHECK(has(text,
              "fedprobe_probe_last_error_info{network=\"surrey-psn\",outcome=\"prohibited\",probe="
              "\"tcp\",reporter=\"198.51.100.1\",reporter_network=\"psn-core\""));
    CHECK(has(text,
              "outcome=\"prohibited\",probe=\"tcp\",service=\"https\",site=\"kent-nhs\",target="
              "\"epr\"} 1"));

    r.outcome = Outcome::filtered;  // a new verdict replaces the series, never adds one
    r.reporter.reset();
    e.record(epr, r, "");
    text = scrape(e);
    CHECK_FALSE(has(text, "reporter=\"198.51.100.1\""));
    CHECK(has(text, "fedprobe_probe_last_error_info{network=\"surrey-psn\",outcome=\"filtered\""));

    r.outcome = Outcome::ok;
    e.record(epr, r, "");
    text = scrape(e);
    CHECK_FALSE(has(text, "fedprobe_probe_last_error_info{"));
    CHECK(has(text,
              "fedprobe_probe_success{network=\"surrey-psn\",probe=\"tcp\",service=\"https\",site="
              "\"kent-nhs\",target=\"epr\"} 1"));
}

TEST_CASE("jobs that leave the config take all their series with them") {
    PrometheusExporter e("1");
    auto first = e.sync_jobs({job("epr", "tcp", "https"), job("pacs", "icmp", "")});
    ProbeResult r;
    r.outcome = Outcome::refused;
    r.reporter = IpAddress::parse("198.51.100.9");
    e.record(first.at(1), r, "surrey-psn");
    e.record(first.at(0), r, "surrey-psn");
    CHECK(has(scrape(e), "target=\"pacs\""));
    JobLabels kept = job("epr", "tcp", "https");
    kept.previous = first.at(0);
    auto second = e.sync_jobs({kept});
    auto text = scrape(e);
    CHECK_FALSE(has(text, "target=\"pacs\""));
    CHECK(has(text, "target=\"epr\""));
    CHECK(e.series_count() == 1);
    CHECK(second.at(0) == first.at(0));  // epr kept its series, and its count
    CHECK(has(text,
              "outcome=\"refused\",probe=\"tcp\",service=\"https\",site=\"kent-nhs\","
              "target=\"epr\"} 1"));
    // Handed back without its previous handle, a job starts from zero.
    e.sync_jobs({job("epr", "tcp", "https")});
    CHECK(has(scrape(e),
              "outcome=\"refused\",probe=\"tcp\",service=\"https\",site=\"kent-"
              "nhs\",target=\"epr\"} 0"));
}

TEST_CASE("ICMP rounds feed the packet counters and the RTT histogram") {
    PrometheusExporter e("1");
    auto* pacs = e.sync_jobs({job("pacs", "icmp", "")}).at(0);
    ProbeResult r;
    r.outcome = Outcome::ok;
    IcmpResult icmp;
    icmp.packets_sent = 3;
    icmp.packets_received = 2;
    icmp.duplicates = 1;
    icmp.rtts = {std::chrono::microseconds(300), std::chrono::microseconds(1500)};
    r.kind = icmp;
    e.record(pacs, r, "");
    auto text = scrape(e);
    // An empty label (service) is left out: Prometheus reads it as absent either way.
    const std::string labels =
        "network=\"surrey-psn\",probe=\"icmp\",site=\"kent-nhs\",target=\"pacs\"";
    CHECK(has(text, "fedprobe_icmp_packets_sent_total{" + labels + "} 3"));
    CHECK(has(text, "fedprobe_icmp_packets_received_total{" + labels + "} 2"));
    CHECK(has(text, "fedprobe_icmp_rtt_seconds_count{" + labels + "} 2"));
    CHECK(has(text, "fedprobe_icmp_rtt_seconds_bucket{" + labels + ",le=\"0.001\"} 1"));
    CHECK(has(text, "fedprobe_icmp_rtt_seconds_bucket{" + labels + ",le=\"0.005\"} 2"));
    // One RTT histogram per icmp target: the common duration would measure the same thing.
    CHECK_FALSE(has(text, "fedprobe_probe_duration_seconds_count{" + labels));
    CHECK_FALSE(has(text, "service=\"\""));
    // Failing outcomes of an icmp target are listed once they have happened.
    CHECK(has(text, "outcome=\"ok\",probe=\"icmp\""));
    CHECK_FALSE(has(text, "outcome=\"filtered\",probe=\"icmp\""));
    r.outcome = Outcome::filtered;
    e.record(pacs, r, "");
    CHECK(has(scrape(e), "outcome=\"filtered\",probe=\"icmp\""));
}

TEST_CASE("an icmp target stays within 25 series and 2.1 KB of exposition, failing or not") {
    PrometheusExporter e("1");
    // Labels as the lab's federation gives them.
    auto* gw = e.sync_jobs({JobLabels{"surrey-psn-gateway/icmp",
                                      {{"site", "sussex-nhs"},
                                       {"network", "surrey-psn"},
                                       {"target", "surrey-psn-gateway"},
                                       {"probe", "icmp"},
                                       {"service", ""}}}})
                   .at(0);
    ProbeResult r;
    r.outcome = Outcome::prohibited;
    r.reporter = IpAddress::parse("192.0.2.6");
    IcmpResult icmp;
    icmp.packets_sent = 3;
    r.kind = icmp;
    e.record(gw, r, "surrey-psn");  // a failure: its outcome, last error
    r.outcome = Outcome::ok;
    r.reporter.reset();
    icmp.packets_received = 3;
    icmp.rtts = {std::chrono::milliseconds(12)};
    r.kind = icmp;
    e.record(gw, r, "");
    r.outcome = Outcome::filtered;  // and failing again
    e.record(gw, r, "");
    prometheus::TextSerializer s;
    std::size_t series = 0, bytes = 0;
    for (const auto& f : e.collect()) {
        auto text = s.Serialize({f});
        for (std::size_t at = 0;
             (at = text.find("target=\"surrey-psn-gateway\"", at)) != std::string::npos; ++at)
            ++series;
        if (text.find("surrey-psn-gateway") == std::string::npos) continue;
        // The series' own lines; HELP and TYPE are shared by every target.
        for (std::size_t start = 0, end; start < text.size(); start = end + 1) {
            end = text.find('\n', start);
            if (text[start] != '#') bytes += end - start + 1;
        }
    }
    MESSAGE(series << " series, " << bytes << " bytes");
    CHECK(series <= 25);
    CHECK(bytes <= 2176);  // 2 KB, and fedprobe_probe_as_expected's line (about 110 bytes)
}

TEST_CASE("reload metrics follow Prometheus' own") {
    PrometheusExporter e("1");
    e.config_reloaded(true, 1700000000, "aaaa");
    e.config_reloaded(false, 1700000100, "bbbb");
    auto text = scrape(e);
    CHECK(has(text, "fedprobe_config_last_reload_successful 0"));
    CHECK(has(text, "fedprobe_config_last_reload_success_timestamp_seconds 1700000000"));
    // The file running: a rejected one changes nothing; a taken one replaces the series.
    CHECK(has(text, "fedprobe_config_info{sha256=\"aaaa\"} 1"));
    CHECK_FALSE(has(text, "bbbb"));
    e.config_reloaded(true, 1700000200, "cccc");
    text = scrape(e);
    CHECK(has(text, "fedprobe_config_info{sha256=\"cccc\"} 1"));
    CHECK_FALSE(has(text, "aaaa"));
}

namespace {
// What /metrics serves (scrape() checks it against collect()).
std::string serve(const PrometheusExporter& e) {
    return scrape(e);
}
}  // namespace

TEST_CASE("flows: compliance, a state set, the last change and the reporter, all served") {
    PrometheusExporter e("1");
    JobLabels flow{"flow:no-rdp/epr",
                   {{"site", "kent-psn"},
                    {"flow", "no-rdp"},
                    {"from", "kent-psn"},
                    {"to", "epr"},
                    {"network", "kent-nhs"},
                    {"service", "rdp"},
                    {"expect", "deny"}}};
    e.sync_flows({flow});
    auto text = serve(e);
    CHECK(has(text,
              "fedprobe_flow_compliant{expect=\"deny\",flow=\"no-rdp\",from=\"kent-psn\",network="
              "\"kent-nhs\",service=\"rdp\",site=\"kent-psn\",to=\"epr\"} Nan"));
    e.record_flow(e.find_flow("flow:no-rdp/epr"), Outcome::prohibited, true, "192.0.2.6",
                  "surrey-psn", Outcome::prohibited, 1700000000);
    text = serve(e);
    CHECK(has(text,
              "fedprobe_flow_compliant{expect=\"deny\",flow=\"no-rdp\",from=\"kent-psn\",network="
              "\"kent-nhs\",service=\"rdp\",site=\"kent-psn\",to=\"epr\"} 1"));
    CHECK(has(text, "service=\"rdp\",site=\"kent-psn\",state=\"prohibited\",to=\"epr\"} 1"));
    CHECK(has(text, "service=\"rdp\",site=\"kent-psn\",state=\"ok\",to=\"epr\"} 0"));
    CHECK(has(
        text,
        "fedprobe_flow_last_change_timestamp_seconds{expect=\"deny\",flow=\"no-rdp\",from=\"kent-"
        "psn\",network=\"kent-nhs\",service=\"rdp\",site=\"kent-psn\",to=\"epr\"} 1700000000"));
    CHECK(has(text, "fedprobe_flow_reporter_info{answered=\"prohibited\",expect=\"deny\""));
    CHECK(has(text, "reporter=\"192.0.2.6\",reporter_network=\"surrey-psn\""));
    e.record_flow(e.find_flow("flow:no-rdp/epr"), Outcome::prohibited, true, "192.0.2.6",
                  "surrey-psn", Outcome::prohibited, 1700000100);
    CHECK(has(serve(e), "} 1700000000"));  // unchanged state: the last change stays
    e.record_flow(e.find_flow("flow:no-rdp/epr"), Outcome::ok, false, "", "", Outcome::ok,
                  1700000200);
    text = serve(e);
    CHECK(has(text, "to=\"epr\"} 0\n"));
    CHECK(has(text, "} 1700000200"));
    CHECK_FALSE(has(text, "fedprobe_flow_reporter_info{"));
    e.sync_flows({});
    CHECK_FALSE(has(serve(e), "no-rdp"));
}

TEST_CASE("http probes: phases, status, TLS version, verification and certificate dates") {
    PrometheusExporter e("1");
    auto* portal = e.sync_jobs({job("portal", "http", "https")}).at(0);
    const std::string labels =
        "network=\"surrey-psn\",probe=\"http\",service=\"https\",site=\"kent-nhs\",target="
        "\"portal\"";
    ProbeResult r;
    r.outcome = Outcome::filtered;
    r.kind = HttpResult{};
    e.record(portal, r, "");
    auto text = scrape(e);
    CHECK(has(text, "fedprobe_http_status_code{" + labels + "} 0"));
    CHECK(
        has(text, "fedprobe_http_duration_seconds{" + labels.substr(0, 21) + "phase=\"connect\","));
    CHECK_FALSE(has(text, "fedprobe_tls_cert_not_after_timestamp_seconds"));  // no handshake yet
    CHECK_FALSE(has(text, "fedprobe_http_tls_version_info"));

    r.outcome = Outcome::tls_error;
    HttpResult h;
    h.tls_used = true;
    h.tls_version = "TLSv1.3";
    h.verified = false;
    h.leaf_not_after = 1700000000;
    h.chain_not_after = 1690000000;
    h.phases.tls = 0.004;
    r.kind = h;
    e.record(portal, r, "");
    text = scrape(e);
    CHECK(has(text, "fedprobe_tls_cert_verified{" + labels + "} 0"));
    CHECK(has(text, "fedprobe_http_tls_version_info{" + labels + ",version=\"TLSv1.3\"} 1"));
    CHECK(has(text, "fedprobe_tls_cert_not_after_timestamp_seconds{cert=\"leaf\"," + labels +
                        "} 1700000000"));
    CHECK(has(text, "fedprobe_tls_cert_not_after_timestamp_seconds{cert=\"earliest\"," + labels +
                        "} 1690000000"));
    CHECK(has(text,
              "phase=\"tls\",probe=\"http\",service=\"https\",site=\"kent-nhs\",target=\"portal\"} "
              "0.004"));
    CHECK(has(text, "fedprobe_probe_outcome_total{network=\"surrey-psn\",outcome=\"tls_error\""));

    // The server becomes unreachable: the certificate's dates stay, the status goes to 0.
    ProbeResult gone;
    gone.outcome = Outcome::filtered;
    gone.kind = HttpResult{};
    e.record(portal, gone, "");
    text = scrape(e);
    CHECK(has(text, "fedprobe_tls_cert_not_after_timestamp_seconds{cert=\"leaf\"," + labels +
                        "} 1700000000"));
    CHECK(has(text, "fedprobe_http_status_code{" + labels + "} 0"));
}

TEST_CASE("as expected: a job's expectation, served with why, and each result judged by it") {
    PrometheusExporter e("1");
    JobLabels denied = job("epr", "tcp", "rdp");
    denied.expect.kind = ExpectedResult::Kind::denied;
    denied.expect_because = "flow:no-rdp";
    auto handles = e.sync_jobs({denied, job("epr", "tcp", "https")});
    auto text = scrape(e);
    const std::string rdp =
        "{network=\"surrey-psn\",probe=\"tcp\",service=\"rdp\",site=\"kent-nhs\",target=\"epr\"}";
    const std::string https =
        "{network=\"surrey-psn\",probe=\"tcp\",service=\"https\",site=\"kent-nhs\",target=\"epr\"}";
    CHECK(has(text, "fedprobe_probe_as_expected" + rdp + " Nan"));  // not yet probed
    CHECK(
        has(text,
            "fedprobe_probe_expected_info{because=\"flow:no-rdp\",expect=\"deny\",network=\"surrey-"
            "psn\",probe=\"tcp\",service=\"rdp\",site=\"kent-nhs\",target=\"epr\"} 1"));
    CHECK_FALSE(has(text, "target=\"epr\"} 1\nfedprobe_probe_expected_info"));  // rdp's alone
    ProbeResult filtered;
    filtered.outcome = Outcome::filtered;
    e.record(handles[0], filtered, "");
    e.record(handles[1], filtered, "");
    text = scrape(e);
    CHECK(has(text, "fedprobe_probe_as_expected" + rdp + " 1"));
    CHECK(has(text, "fedprobe_probe_as_expected" + https + " 0"));
    ProbeResult ok;
    ok.outcome = Outcome::ok;
    e.record(handles[0], ok, "");
    CHECK(has(scrape(e), "fedprobe_probe_as_expected" + rdp + " 0"));  // a denied one got through

    // The policy changes, the labels do not: the series stays, its expectation follows.
    JobLabels now_allowed = job("epr", "tcp", "rdp");
    now_allowed.previous = handles[0];
    handles = e.sync_jobs({now_allowed});
    text = scrape(e);
    CHECK(has(text, "fedprobe_probe_as_expected" + rdp + " 1"));
    CHECK_FALSE(has(text, "fedprobe_probe_expected_info{"));
}
