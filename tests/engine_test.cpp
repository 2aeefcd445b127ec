// The engine with fake probes and a time of the test's own: no sockets, no root.
#include <doctest/doctest.h>
#include <prometheus/text_serializer.h>

#include <map>
#include <set>

#include "engine/engine.hpp"
#include "exporters/prometheus_exporter.hpp"
#include "federation/loader.hpp"

using namespace fedprobe;
using namespace std::chrono_literals;

namespace {

// Holds every started probe until the test finishes it.
struct FakeProbes {
    struct Started {
        std::string destination;
        std::size_t kind;
        Probe::Done done;
        std::uint16_t port = 0;
        bool fresh = false;  // a path request's PathParams::fresh
    };
    std::vector<Started> started;

    class Fake : public Probe {
      public:
        Fake(FakeProbes& owner, std::size_t kind) : owner_(owner), kind_(kind) {}
        void start(const ProbeRequest& r, Done done) override {
            const bool fresh = kind_ == kind_index_of<PathKind>() && r.as<PathKind>().fresh;
            owner_.started.push_back({r.destination.str(), kind_, std::move(done), r.port, fresh});
        }

      private:
        FakeProbes& owner_;
        std::size_t kind_;
    };
    Engine::ProbeFactory factory() {
        return [this](std::size_t kind, EventLoop&) { return std::make_unique<Fake>(*this, kind); };
    }
    // Finishes every started probe with `outcome` (or as overloaded).
    void finish_all(Outcome outcome, std::optional<Overload> overload = {}) {
        auto all = std::move(started);
        started.clear();
        for (auto& s : all) {
            ProbeResult r;
            r.outcome = outcome;
            r.overload = overload;
            s.done(r);
        }
    }
};

struct Recorder : public ResultSink {
    std::vector<std::string> keys;
    std::size_t changes = 0;
    void jobs_changed(std::span<LiveJob* const>) override { ++changes; }
    void finished(LiveJob& job, const RoundReport&) override { keys.push_back(job.job.key()); }
};

std::shared_ptr<const Config> config(const std::string& targets, int rate_limit = 1000) {
    auto r = load_config_text(R"([fedprobe]
site = "kent-nhs"
interval = "10s"
timeout = "1s"
rate_limit = )" + std::to_string(rate_limit) +
                                  R"(
[[networks]]
id = "kent-nhs"
[[networks]]
id = "surrey-psn"
prefixes = ["192.0.2.0/24"]
[services]
https = { proto = "tcp", port = 443 }
)" + targets,
                              "t.toml", std::nullopt);
    for (const auto& d : r.diagnostics)
        MESSAGE(d.format());
    REQUIRE(r.config);
    return r.config;
}

std::string target(const std::string& id, int host) {
    return "[[targets]]\nid = \"" + id + "\"\nnetwork = \"surrey-psn\"\naddress = \"192.0.2." +
           std::to_string(host) + "\"\nprobes = [\"icmp\", \"tcp:https\"]\n";
}

std::string scrape(const PrometheusExporter& e) {
    prometheus::TextSerializer s;
    std::string served;  // what /metrics serves
    e.write_text(served);
    CHECK(served == s.Serialize(e.collect()));
    return served;
}

struct Fixture {
    EventLoop loop;
    FakeProbes probes;
    TimePoint now = TimePoint{} + 1000h;
    std::unique_ptr<Engine> engine;
    Fixture() {
        REQUIRE(loop.init().ok());
        engine = std::make_unique<Engine>(loop, EngineSettings::daemon(), probes.factory(),
                                          [this] { return now; });
    }
    // Advances the test's clock in steps, starting whatever falls due.
    void advance(Duration by, Duration step = 100ms) {
        for (auto end = now + by; now < end; now += step)
            engine->run_due(now);
    }
};

}  // namespace

TEST_CASE("first runs spread over the interval, each job once per interval") {
    Fixture f;
    std::string targets;
    for (int i = 1; i <= 20; ++i)
        targets += target("t" + std::to_string(i), i);
    f.engine->apply(config(targets));
    CHECK(f.engine->size() == 40);
    std::map<int, int> per_second;  // second of the interval -> probes started in it
    std::size_t before = 0;
    for (int s = 0; s < 11; ++s) {  // one interval and a little: jitter may reach its very end
        f.advance(1s);
        per_second[s] = static_cast<int>(f.probes.started.size() - before);
        before = f.probes.started.size();
    }
    CHECK(f.probes.started.size() == 40);  // every job exactly once in its first interval
    for (const auto& [second, n] : per_second)
        CHECK(n <= 8);  // 40 over 10 s: about 4 a second, never a burst
    f.probes.finish_all(Outcome::ok);
    f.advance(10s);
    CHECK(f.probes.started.size() == 40);  // and once in the next (a running job never twice)
}

TEST_CASE("every result reaches every sink, in order") {
    Fixture f;
    Recorder a, b;
    REQUIRE(f.engine->add_sink(a));
    REQUIRE(f.engine->add_sink(b));
    Recorder c;  // every job has room for two sinks' state, no more
    CHECK_FALSE(f.engine->add_sink(c));
    f.engine->apply(config(target("epr", 10)));
    CHECK(a.changes == 1);
    f.advance(11s);  // one interval and a little: jitter may reach its very end
    REQUIRE(f.probes.started.size() == 2);
    f.probes.finish_all(Outcome::filtered);
    CHECK(a.keys.size() == 2);
    CHECK(a.keys == b.keys);
    CHECK(std::set<std::string>(a.keys.begin(), a.keys.end()) ==
          std::set<std::string>{"epr/icmp", "epr/tcp:https"});
    for (const LiveJob* lj : f.engine->jobs())
        CHECK(lj->last_outcome == Outcome::filtered);
}

TEST_CASE("a reload keeps the series of unchanged jobs and drops those that left") {
    Fixture f;
    PrometheusExporter exporter("test");
    REQUIRE(f.engine->add_sink(exporter));
    f.engine->apply(config(target("stays", 1) + target("leaves", 2)));
    f.advance(11s);  // one interval and a little: jitter may reach its very end
    REQUIRE(f.probes.started.size() == 4);
    f.probes.finish_all(Outcome::ok);
    auto before = scrape(exporter);
    CHECK(before.find("target=\"leaves\"") != std::string::npos);

    auto change = f.engine->apply(config(target("stays", 1) + target("arrives", 3)));
    CHECK(change.kept == 2);
    CHECK(change.removed.size() == 2);
    CHECK(change.added.size() == 2);
    auto after = scrape(exporter);
    CHECK(after.find("target=\"leaves\"") == std::string::npos);
    CHECK(after.find("target=\"arrives\"") != std::string::npos);
    // The kept job's counter carried over: its round before the reload still counts.
    CHECK(after.find("fedprobe_probe_outcome_total{network=\"surrey-psn\",outcome=\"ok\","
                     "probe=\"tcp\",service=\"https\",site=\"kent-nhs\",target=\"stays\"} 1") !=
          std::string::npos);
}

TEST_CASE("a job whose interval changed keeps its series and runs at the new interval") {
    Fixture f;
    PrometheusExporter exporter("test");
    REQUIRE(f.engine->add_sink(exporter));
    f.engine->apply(config(target("epr", 1)));
    f.advance(11s);
    REQUIRE(f.probes.started.size() == 2);
    f.probes.finish_all(Outcome::ok);
    std::string faster = target("epr", 1) + "interval = \"2s\"\n";
    auto change = f.engine->apply(config(faster));
    CHECK(change.kept == 2);
    CHECK(change.added.empty());
    CHECK(change.removed.empty());
    f.advance(10s);  // five rounds of 2 s each, finished as they start
    std::size_t rounds = 0, tcp_rounds = 0;
    for (int i = 0; i < 5; ++i) {
        rounds += f.probes.started.size();
        for (const auto& st : f.probes.started)
            tcp_rounds += st.kind == kind_index_of<TcpKind>();
        f.probes.finish_all(Outcome::ok);
        f.advance(2s);
    }
    CHECK(rounds >= 8);  // about 2 jobs x 5 rounds, not 2 x 1 as at 10 s
    // The series went on counting from the round before the reload.
    const std::string line =
        "fedprobe_probe_outcome_total{network=\"surrey-psn\",outcome=\"ok\",probe=\"tcp\","
        "service=\"https\",site=\"kent-nhs\",target=\"epr\"} ";
    const std::string text = scrape(exporter);
    const auto at = text.find(line);
    REQUIRE(at != std::string::npos);
    CHECK(std::stod(text.substr(at + line.size())) == static_cast<double>(1 + tcp_rounds));
}

TEST_CASE("a job whose interval changes while its round is out waits for that round") {
    Fixture f;
    Recorder r;
    REQUIRE(f.engine->add_sink(r));
    f.engine->apply(config(target("epr", 1)));
    f.advance(11s);
    REQUIRE(f.probes.started.size() == 2);
    // Reloaded with 2 s while both rounds are out: the jobs get new scheduler handles.
    f.engine->apply(config(target("epr", 1) + "interval = \"2s\"\n"));
    f.advance(6s);
    CHECK(f.probes.started.size() == 2);  // no second round on top of the first
    CHECK(f.engine->stats().overruns > 0);
    f.probes.finish_all(Outcome::ok);
    CHECK(r.keys.size() == 2);
    CHECK(f.engine->stats().in_flight == 0);
    // The old rounds' return freed the new handles: the jobs run again at 2 s.
    f.advance(2100ms);
    CHECK(f.probes.started.size() == 2);
}

TEST_CASE("a probe that returns after its job left is dropped, not recorded") {
    Fixture f;
    Recorder r;
    REQUIRE(f.engine->add_sink(r));
    f.engine->apply(config(target("gone", 1)));
    f.advance(11s);  // one interval and a little: jitter may reach its very end
    REQUIRE(f.probes.started.size() == 2);
    f.engine->apply(config(target("other", 2)));
    f.probes.finish_all(Outcome::ok);
    CHECK(r.keys.empty());
}

TEST_CASE("overload is accounted as overload, never as an outcome") {
    Fixture f;
    PrometheusExporter exporter("test");
    Recorder r;
    REQUIRE(f.engine->add_sink(exporter));
    REQUIRE(f.engine->add_sink(r));
    f.engine->apply(config(target("epr", 1)));
    f.advance(11s);  // one interval and a little: jitter may reach its very end
    REQUIRE(f.probes.started.size() == 2);
    f.probes.finish_all(Outcome::filtered, Overload::dropped_replies);
    CHECK(r.keys.size() == 2);  // sinks see it, marked
    auto stats = f.engine->stats();
    CHECK(stats.overloaded[kind_index_of<IcmpKind>()]
                          [static_cast<std::size_t>(Overload::dropped_replies)] == 1);
    auto text = scrape(exporter);
    CHECK(
        text.find("fedprobe_probe_overloaded_total{probe=\"icmp\",reason=\"dropped_replies\"} 1") !=
        std::string::npos);
    // No verdict: success is still unknown and no outcome was counted.
    CHECK(text.find("fedprobe_probe_success{network=\"surrey-psn\",probe=\"icmp\",site=\"kent-"
                    "nhs\",target=\"epr\"} Nan") != std::string::npos);
    CHECK(text.find("outcome=\"filtered\",probe=\"tcp\",service=\"https\",site=\"kent-nhs\","
                    "target=\"epr\"} 0") != std::string::npos);
    for (const LiveJob* lj : f.engine->jobs())
        CHECK_FALSE(lj->last_outcome.has_value());

    // A loop that fell far behind: rounds that start long after their slot are overload too.
    f.now += 25s;  // nothing ran for 25 s
    f.engine->run_due(f.now);
    REQUIRE(f.probes.started.size() == 2);
    f.probes.finish_all(Outcome::ok);
    stats = f.engine->stats();
    for (std::size_t kind : {kind_index_of<TcpKind>(), kind_index_of<IcmpKind>()})
        CHECK(stats.overloaded[kind][static_cast<std::size_t>(Overload::late_start)] == 1);
    text = scrape(exporter);
    CHECK(text.find("fedprobe_probe_overloaded_total{probe=\"tcp\",reason=\"late_start\"} 1") !=
          std::string::npos);
}

TEST_CASE("check's settings start every job at once, within the rate limit") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    FakeProbes probes;
    TimePoint now = TimePoint{} + 1000h;
    Engine engine(loop, EngineSettings::check(), probes.factory(), [&] { return now; });
    std::string targets;
    for (int i = 1; i <= 5; ++i)
        targets += target("t" + std::to_string(i), i);
    engine.apply(config(targets));
    engine.run_due(now);
    CHECK(probes.started.size() == 10);
}

TEST_CASE("the sockets are drained between stretches of starts, so few rounds wait at once") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    FakeProbes probes;
    // A near network: whatever was sent has its answer waiting when the sockets are read.
    std::size_t drains = 0, most_waiting = 0;
    loop.add_drain([&] {
        ++drains;
        most_waiting = std::max(most_waiting, probes.started.size());
        probes.finish_all(Outcome::ok);
    });
    TimePoint now = TimePoint{} + 1000h;
    EngineSettings settings = EngineSettings::check();
    settings.starts_between_drains = 100;
    Engine engine(loop, settings, probes.factory(), [&] { return now; });
    Recorder results;
    REQUIRE(engine.add_sink(results));
    std::string targets;
    for (int i = 0; i < 525; ++i)  // two jobs each (icmp, tcp:https); addresses may repeat
        targets += target("t" + std::to_string(i), i % 250 + 1);
    engine.apply(config(targets, 1000000));
    engine.run_due(now);  // all 1,050 due in this one wake-up
    CHECK(drains == 10);
    CHECK(most_waiting == 100);
    CHECK(results.keys.size() == 1000);  // ended inside the wake-up, as the drains read them
    CHECK(probes.started.size() == 50);  // the last stretch waits for the loop's own read
}

namespace {

// A flow from kent-nhs over https to one target (and a deny flow to it over ssh).
std::shared_ptr<const Config> flow_config() {
    return config(R"([services.ssh]
proto = "tcp"
port = 22
[[targets]]
id = "epr"
network = "surrey-psn"
address = "192.0.2.10"
probes = []
[[flows]]
id = "web"
from = ["kent-nhs"]
to = "epr"
service = "https"
expect = "allow"
[[flows]]
id = "no-ssh"
from = ["kent-nhs"]
to = "epr"
service = "ssh"
expect = "deny"
)");
}

// Finishes started probes of `kind` only, keeping the others.
void finish_kind(FakeProbes& probes, std::size_t kind, ProbeResult r) {
    std::vector<FakeProbes::Started> keep, run;
    for (auto& s : probes.started)
        (s.kind == kind ? run : keep).push_back(std::move(s));
    probes.started = std::move(keep);
    for (auto& s : run)
        s.done(r);
}

ProbeResult with_outcome(Outcome o) {
    ProbeResult r;
    r.outcome = o;
    return r;
}

// A path trace that went silent after 192.0.2.6 at TTL 4.
ProbeResult silent_after_hop_4() {
    PathResult path;
    FlowTrace t;
    t.stop = PathStop::silent;
    t.stop_ttl = 4;
    t.stop_hop = IpAddress::parse("192.0.2.6");
    t.stop_network = "surrey-psn";
    path.flows.push_back(t);
    ProbeResult r;
    r.outcome = Outcome::filtered;
    r.kind = path;
    return r;
}

struct TraceRecorder : public ResultSink {
    std::vector<std::string> traced;
    std::vector<bool> trace_follows;
    void jobs_changed(std::span<LiveJob* const>) override {}
    void finished(LiveJob& job, const RoundReport& round) override {
        if (job.job.flow) trace_follows.push_back(round.trace_follows);
    }
    void flow_traced(LiveJob& job, const ProbeResult&) override {
        traced.push_back(job.job.key() + " " +
                         (job.blocked_after() ? describe(*job.blocked_after()) : "-"));
    }
};

}  // namespace

TEST_CASE("an allow flow found filtered is traced with path:SERVICE, at most once per 10 minutes") {
    Fixture f;
    PrometheusExporter exporter("test");
    TraceRecorder rec;
    REQUIRE(f.engine->add_sink(exporter));
    REQUIRE(f.engine->add_sink(rec));
    f.engine->apply(flow_config());
    const std::size_t tcp = kind_index_of<TcpKind>(), path = kind_index_of<PathKind>();
    f.advance(11s);
    REQUIRE(f.probes.started.size() == 2);  // the two flows
    finish_kind(f.probes, tcp, with_outcome(Outcome::filtered));
    // The deny flow complies by being filtered: only the allow flow is traced, towards its port.
    REQUIRE(f.probes.started.size() == 1);
    CHECK(f.probes.started[0].kind == path);
    CHECK(f.probes.started[0].port == 443);
    CHECK(f.probes.started[0].destination == "192.0.2.10");
    CHECK(f.probes.started[0].fresh);  // never answered by a path round begun before the drop
    CHECK(rec.trace_follows == std::vector<bool>{true, false});
    finish_kind(f.probes, path, silent_after_hop_4());
    REQUIRE(rec.traced.size() == 1);
    CHECK(rec.traced[0] == "flow:web/epr after 192.0.2.6 (surrey-psn), hop 4");
    const std::string series =
        "fedprobe_flow_blocked_after_info{expect=\"allow\",flow=\"web\",from=\"kent-nhs\","
        "hop=\"192.0.2.6\",hop_network=\"surrey-psn\",network=\"surrey-psn\",service="
        "\"https\",site=\"kent-nhs\",to=\"epr\",ttl=\"4\"} 1";
    CHECK(scrape(exporter).find(series) != std::string::npos);

    // Still filtered a few minutes on: no second trace, and the series stays.
    for (int round = 0; round < 30; ++round) {
        f.advance(10s);
        finish_kind(f.probes, tcp, with_outcome(Outcome::filtered));
    }
    CHECK(f.engine->stats().blocked_traces == 1);
    CHECK(scrape(exporter).find(series) != std::string::npos);
    // Ten minutes after the first trace, the next filtered round is traced again.
    for (int round = 0; round < 32 && f.probes.started.empty(); ++round) {
        f.advance(10s);
        finish_kind(f.probes, tcp, with_outcome(Outcome::filtered));
    }
    REQUIRE(f.probes.started.size() == 1);
    CHECK(f.probes.started[0].kind == path);
    CHECK(f.engine->stats().blocked_traces == 2);
    // The trace reaches the target (the firewall was fixed meanwhile): nothing blocks it.
    PathResult reached;
    reached.flows.push_back(FlowTrace{});
    reached.flows[0].stop = PathStop::reached;
    ProbeResult r = with_outcome(Outcome::ok);
    r.kind = reached;
    finish_kind(f.probes, path, r);
    CHECK(rec.traced.back() == "flow:web/epr -");
    CHECK(scrape(exporter).find("fedprobe_flow_blocked_after_info") == std::string::npos);
}

TEST_CASE("a trace that could not run is tried again on the next filtered round") {
    Fixture f;
    TraceRecorder rec;
    REQUIRE(f.engine->add_sink(rec));
    f.engine->apply(flow_config());
    const std::size_t tcp = kind_index_of<TcpKind>(), path = kind_index_of<PathKind>();
    f.advance(11s);
    finish_kind(f.probes, tcp, with_outcome(Outcome::filtered));
    REQUIRE(f.probes.started.size() == 1);
    ProbeResult busy = with_outcome(Outcome::error);
    busy.detail = "socket(AF_INET, SOCK_RAW, IPPROTO_RAW): Operation not permitted";
    finish_kind(f.probes, path, busy);
    CHECK(rec.traced.back() == "flow:web/epr -");
    // The next round, 10 s on and not 10 minutes: traced again, and this time it runs.
    f.advance(10s);
    finish_kind(f.probes, tcp, with_outcome(Outcome::filtered));
    REQUIRE(f.probes.started.size() == 1);
    CHECK(f.probes.started[0].kind == path);
    CHECK(f.engine->stats().blocked_traces == 2);
    finish_kind(f.probes, path, silent_after_hop_4());
    CHECK(rec.traced.back() == "flow:web/epr after 192.0.2.6 (surrey-psn), hop 4");
    // Done: the next rounds leave it for blocked_trace_every.
    f.advance(10s);
    finish_kind(f.probes, tcp, with_outcome(Outcome::filtered));
    CHECK(f.probes.started.empty());

    // An error that lasts (no raw sockets) is retried once, not every round.
    for (int round = 0; round < 62 && f.probes.started.empty(); ++round) {
        f.advance(10s);
        finish_kind(f.probes, tcp, with_outcome(Outcome::filtered));
    }
    REQUIRE(f.probes.started.size() == 1);
    finish_kind(f.probes, path, busy);
    f.advance(10s);
    finish_kind(f.probes, tcp, with_outcome(Outcome::filtered));
    REQUIRE(f.probes.started.size() == 1);  // the one retry
    finish_kind(f.probes, path, busy);
    for (int round = 0; round < 30; ++round) {
        f.advance(10s);
        finish_kind(f.probes, tcp, with_outcome(Outcome::filtered));
    }
    CHECK(f.probes.started.empty());
    CHECK(f.engine->stats().blocked_traces == 4);
}

TEST_CASE("a flow that works again loses its blocked_after; a reload during a trace is safe") {
    Fixture f;
    PrometheusExporter exporter("test");
    REQUIRE(f.engine->add_sink(exporter));
    f.engine->apply(flow_config());
    const std::size_t tcp = kind_index_of<TcpKind>(), path = kind_index_of<PathKind>();
    f.advance(11s);
    finish_kind(f.probes, tcp, with_outcome(Outcome::filtered));
    finish_kind(f.probes, path, silent_after_hop_4());
    CHECK(scrape(exporter).find("fedprobe_flow_blocked_after_info") != std::string::npos);
    f.advance(10s);
    finish_kind(f.probes, tcp, with_outcome(Outcome::ok));
    CHECK(scrape(exporter).find("fedprobe_flow_blocked_after_info") == std::string::npos);
    for (const LiveJob* lj : f.engine->jobs())
        CHECK_FALSE(lj->blocked_after().has_value());

    // Filtered 10 minutes later: traced; the flow leaves the config before the trace returns.
    f.advance(600s);
    finish_kind(f.probes, tcp, with_outcome(Outcome::filtered));
    REQUIRE(f.probes.started.size() == 1);
    f.engine->apply(config(target("other", 2)));
    finish_kind(f.probes, path, silent_after_hop_4());  // dropped, not recorded
    CHECK(scrape(exporter).find("fedprobe_flow_blocked_after_info") == std::string::npos);
    CHECK(f.engine->stats().in_flight == 0);
}

TEST_CASE("a flow blocked again after working is traced at once, not 10 minutes on") {
    Fixture f;
    TraceRecorder rec;
    REQUIRE(f.engine->add_sink(rec));
    f.engine->apply(flow_config());
    const std::size_t tcp = kind_index_of<TcpKind>(), path = kind_index_of<PathKind>();
    f.advance(11s);
    finish_kind(f.probes, tcp, with_outcome(Outcome::filtered));
    finish_kind(f.probes, path, silent_after_hop_4());
    CHECK(f.engine->stats().blocked_traces == 1);
    // Fixed, then a new fault 20 s later: blame must see where this one stops.
    f.advance(10s);
    finish_kind(f.probes, tcp, with_outcome(Outcome::ok));
    f.advance(10s);
    finish_kind(f.probes, tcp, with_outcome(Outcome::filtered));
    REQUIRE(f.probes.started.size() == 1);
    CHECK(f.probes.started[0].kind == path);
    CHECK(f.engine->stats().blocked_traces == 2);
    finish_kind(f.probes, path, silent_after_hop_4());
    // Still filtered: no new trace until blocked_trace_every.
    f.advance(10s);
    finish_kind(f.probes, tcp, with_outcome(Outcome::filtered));
    CHECK(f.probes.started.empty());
    // A change between two failures (prohibited, then filtered) is a new story too.
    f.advance(10s);
    finish_kind(f.probes, tcp, with_outcome(Outcome::prohibited));
    f.advance(10s);
    finish_kind(f.probes, tcp, with_outcome(Outcome::filtered));
    REQUIRE(f.probes.started.size() == 1);
    CHECK(f.engine->stats().blocked_traces == 3);
}

TEST_CASE("silent rounds after a device answered keep its answer for 30 s, untraced") {
    Fixture f;
    PrometheusExporter exporter("test");
    TraceRecorder rec;
    REQUIRE(f.engine->add_sink(exporter));
    REQUIRE(f.engine->add_sink(rec));
    f.engine->apply(flow_config());
    const std::size_t tcp = kind_index_of<TcpKind>();
    auto unreachable_from = [](const char* reporter) {
        ProbeResult r = with_outcome(Outcome::unreachable);
        r.reporter = IpAddress::parse(reporter);
        return r;
    };
    const std::string answered =
        "fedprobe_flow_reporter_info{answered=\"unreachable\",expect="
        "\"allow\",flow=\"web\"";
    f.advance(11s);
    finish_kind(f.probes, tcp, unreachable_from("192.0.2.1"));
    CHECK(scrape(exporter).find(answered) != std::string::npos);
    // A router's rate limit: the next rounds get no answer. They are the same fault, told by
    // the same device, and no trace is sent after a drop that is not there.
    for (int round = 0; round < 3; ++round) {
        f.advance(10s);
        finish_kind(f.probes, tcp, with_outcome(Outcome::filtered));
        CHECK(f.probes.started.empty());
        const std::string text = scrape(exporter);
        CHECK(text.find(answered) != std::string::npos);
        CHECK(text.find("reporter=\"192.0.2.1\"") != std::string::npos);
        CHECK(text.find("state=\"filtered\",to=\"epr\"} 1") != std::string::npos);
    }
    // The answer again, then silence: still the same story.
    f.advance(10s);
    finish_kind(f.probes, tcp, unreachable_from("192.0.2.1"));
    f.advance(10s);
    finish_kind(f.probes, tcp, with_outcome(Outcome::filtered));
    CHECK(f.probes.started.empty());
    CHECK(f.engine->stats().blocked_traces == 0);
    // More than 30 s of silence since the answer: a silent drop, traced, with no reporter.
    for (int round = 0; round < 3; ++round) {
        f.advance(10s);
        finish_kind(f.probes, tcp, with_outcome(Outcome::filtered));
    }
    CHECK(f.engine->stats().blocked_traces == 1);
    CHECK(scrape(exporter).find("fedprobe_flow_reporter_info") == std::string::npos);
    finish_kind(f.probes, kind_index_of<PathKind>(), silent_after_hop_4());
    // An answer, then the flow works: the answer is forgotten with the fault.
    f.advance(10s);
    finish_kind(f.probes, tcp, unreachable_from("192.0.2.1"));
    f.advance(10s);
    finish_kind(f.probes, tcp, with_outcome(Outcome::ok));
    for (const LiveJob* lj : f.engine->jobs())
        if (lj->job.flow) CHECK(lj->answer() == nullptr);
    CHECK(f.engine->stats().in_flight == 0);
}

TEST_CASE("another job's unreachable for the flow's address explains its silent rounds") {
    Fixture f;
    PrometheusExporter exporter("test");
    REQUIRE(f.engine->add_sink(exporter));
    f.engine->apply(config(R"([[targets]]
id = "epr"
network = "surrey-psn"
address = "192.0.2.10"
probes = ["icmp", "tcp:ssh"]
[services.ssh]
proto = "tcp"
port = 22
[[flows]]
id = "web"
from = ["kent-nhs"]
to = "epr"
service = "https"
expect = "allow"
)"));
    const std::size_t icmp = kind_index_of<IcmpKind>(), tcp = kind_index_of<TcpKind>(),
                      path = kind_index_of<PathKind>();
    auto answer = [](Outcome o, const char* reporter) {
        ProbeResult r = with_outcome(o);
        r.reporter = IpAddress::parse(reporter);
        return r;
    };
    auto started = [&](std::size_t kind) {
        return std::count_if(f.probes.started.begin(), f.probes.started.end(),
                             [&](const auto& s) { return s.kind == kind; });
    };
    const std::string told =
        "fedprobe_flow_reporter_info{answered=\"unreachable\",expect="
        "\"allow\",flow=\"web\"";
    // An unreachable before the flow last worked explains nothing: traced, no reporter.
    f.advance(11s);
    finish_kind(f.probes, icmp, answer(Outcome::unreachable, "192.0.2.1"));
    finish_kind(f.probes, tcp, with_outcome(Outcome::ok));  // the flow's https and tcp:ssh
    f.advance(10s);
    finish_kind(f.probes, icmp, with_outcome(Outcome::ok));
    finish_kind(f.probes, tcp, with_outcome(Outcome::filtered));
    CHECK(started(path) == 1);
    CHECK(scrape(exporter).find("fedprobe_flow_reporter_info") == std::string::npos);
    finish_kind(f.probes, path, silent_after_hop_4());
    CHECK(scrape(exporter).find("fedprobe_flow_blocked_after_info") != std::string::npos);
    // The router then says "unreachable" to the ping of the same address: the flow's silence is
    // that router's rate limit. Its device stands for the flow, and the trace's last hop goes.
    f.advance(10s);
    finish_kind(f.probes, icmp, answer(Outcome::unreachable, "192.0.2.1"));
    finish_kind(f.probes, tcp, with_outcome(Outcome::filtered));
    std::string text = scrape(exporter);
    CHECK(text.find(told) != std::string::npos);
    CHECK(text.find("reporter=\"192.0.2.1\"") != std::string::npos);
    CHECK(text.find("fedprobe_flow_blocked_after_info") == std::string::npos);
    CHECK(started(path) == 0);
    // Still silent 20 s on, the answer 20 s old: kept, untraced.
    f.advance(10s);
    finish_kind(f.probes, icmp, with_outcome(Outcome::filtered));
    finish_kind(f.probes, tcp, with_outcome(Outcome::filtered));
    f.advance(10s);
    finish_kind(f.probes, icmp, with_outcome(Outcome::filtered));
    finish_kind(f.probes, tcp, with_outcome(Outcome::filtered));
    CHECK(scrape(exporter).find(told) != std::string::npos);
    CHECK(started(path) == 0);
    // A firewall's "prohibited" is about its port: tcp:ssh's does not explain https.
    f.advance(30s);
    finish_kind(f.probes, icmp, with_outcome(Outcome::filtered));
    for (auto& s : f.probes.started)
        if (s.kind == tcp)
            s.done(s.port == 22 ? answer(Outcome::prohibited, "192.0.2.2")
                                : with_outcome(Outcome::filtered));
    std::erase_if(f.probes.started, [&](const auto& s) { return s.kind == tcp; });
    text = scrape(exporter);
    CHECK(text.find("fedprobe_flow_reporter_info") == std::string::npos);
    CHECK(started(path) == 0);  // the same silent drop, traced 60 s ago (blocked_trace_every)
    CHECK(f.engine->stats().in_flight == 0);
}

TEST_CASE("no trace when tracing is off, and check traces once per run") {
    for (bool off : {true, false}) {
        CAPTURE(off);
        EventLoop loop;
        REQUIRE(loop.init().ok());
        FakeProbes probes;
        TimePoint now = TimePoint{} + 1000h;
        EngineSettings settings = EngineSettings::check();
        settings.trace_blocked_flows = !off;
        Engine engine(loop, settings, probes.factory(), [&] { return now; });
        engine.apply(flow_config());
        for (int round = 0; round < 3; ++round) {
            engine.run_due(now);
            finish_kind(probes, kind_index_of<TcpKind>(), with_outcome(Outcome::filtered));
            finish_kind(probes, kind_index_of<PathKind>(), silent_after_hop_4());
            now += 2h;
        }
        CHECK(engine.stats().blocked_traces == (off ? 0u : 1u));
    }
}
