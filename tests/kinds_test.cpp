// Every kind of the table has what the table promises: a unique name, a parser that reads an
// empty table without complaint and rejects an unknown key at its place, a probe, series for
// every family it declares, and params for a job. (A kind that lacks a member does not compile:
// see kind_incomplete.sh.)
#include <doctest/doctest.h>

#include <set>

#include "config/toml_reader.hpp"
#include "core/event_loop.hpp"
#include "probes/probe.hpp"

using namespace fedprobe;

namespace {

// Counts what a kind's series write, per family.
struct CountingWriter : SeriesWriter {
    std::size_t values = 0;
    void value(std::initializer_list<ExtraLabel>, double) override { ++values; }
    void histogram(std::initializer_list<ExtraLabel>, const HistogramSnapshot& h) override {
        ++values;
        CHECK(h.cumulative.size() == h.bounds.size() + 1);
    }
};

}  // namespace

TEST_CASE("the table: names, indices and the variants line up") {
    std::set<std::string_view> names(Kinds::names.begin(), Kinds::names.end());
    CHECK(names.size() == kKindCount);
    for (std::size_t i = 0; i < kKindCount; ++i) {
        CHECK(kind_index(kind_name(i)) == i);
        visit_kind(i, [&]<typename K>() {
            CHECK(kind_index_of<K>() == i);
            CHECK(K::kName == kind_name(i));
            // The request and result variants hold this kind's types.
            ProbeParams p = typename K::Params{};
            CHECK(std::holds_alternative<Boxed<typename K::Params>>(p));
            ProbeResult r;
            r.kind = typename K::Result{};
            CHECK(r.as<K>() != nullptr);
        });
    }
    CHECK_FALSE(kind_index("traceroute").has_value());
    CHECK(kind_names() ==
          "icmp, tcp, udp, dns, http, path, idle, stamp, mllp, dicom, tls, smtp, ldap");
}

TEST_CASE("every kind: parser, probe, series and params") {
    EventLoop loop;
    REQUIRE(loop.init().ok());
    for_each_kind([&]<typename K>() {
        CAPTURE(K::kName);
        // An empty option table parses; at most a required key is missing (dns: 'name').
        {
            TomlReader reader("t.toml");
            toml::table empty;
            OptionReader options(reader, empty, "target 'x': " + std::string(K::kName), {});
            (void)K::parse(options, KindUse{true, true});
            for (const auto& d : reader.take())
                CHECK(d.message.find(" has no ") != std::string::npos);
        }
        // An unknown key is an error at its line, with the kind's name in the message.
        {
            TomlReader reader("t.toml");
            auto table = toml::parse("\n\nno_such_key = 1\n");
            OptionReader options(reader, table, "target 'x': " + std::string(K::kName), {});
            (void)K::parse(options, KindUse{true, true});
            auto diags = reader.take();
            REQUIRE(!diags.empty());
            CHECK(diags[0].line == 3);
            CHECK(diags[0].message.find("unknown key 'no_such_key'") != std::string::npos);
        }
        CHECK(K::make_probe(loop) != nullptr);
        auto series = K::make_series();
        REQUIRE(series != nullptr);
        ProbeResult r;
        r.outcome = Outcome::ok;
        r.kind = typename K::Result{};
        series->record(r);
        for (std::size_t f = 0; f < K::kFamilies.size(); ++f) {
            CHECK(std::string_view(K::kFamilies[f].name).starts_with("fedprobe_"));
            CountingWriter w;
            series->render(f, w);  // never out of range, never a crash
        }
        // Outcomes are declared from the shared vocabulary, `ok` always among them.
        CHECK(std::find(K::kOutcomes.begin(), K::kOutcomes.end(), Outcome::ok) !=
              K::kOutcomes.end());
        JobContext c;
        c.site = "kent-nhs";
        c.destination = *IpAddress::parse("192.0.2.1");
        (void)K::params(nullptr, c);
    });
}

TEST_CASE("a family two kinds declare is the same family: one name, one help, one type") {
    std::vector<FamilyInfo> seen;
    std::size_t shared = 0;
    for_each_kind([&]<typename K>() {
        for (const FamilyInfo& f : K::kFamilies) {
            CHECK(f.name.starts_with("fedprobe_"));
            for (const FamilyInfo& s : seen)
                if (s.name == f.name) {
                    CAPTURE(f.name);
                    CHECK(s.help == f.help);
                    CHECK(s.type == f.type);
                    ++shared;
                }
            seen.push_back(f);
        }
    });
    CHECK(shared >= 8);  // the certificate series of http, tls, smtp, ldap and dicom
}
