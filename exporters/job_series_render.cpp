// Rendering the job series: prometheus-cpp's MetricFamily (Collect) and the exposition text
// written directly (write_text), the same samples in the same order. Scrape threads only.
#include "exporters/job_series.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/clock.hpp"
#include "exporters/text_exposition.hpp"

namespace fedprobe {

namespace {

// Per kind, from the table once at compile time rather than per series on every scrape: which
// outcomes it declares, and whether it has the common duration histogram.
struct KindFacts {
    std::array<bool, kAllOutcomes.size()> declared{};
    bool common_duration = false;
};
constexpr std::array<KindFacts, kKindCount> kKindFacts = [] {
    std::array<KindFacts, kKindCount> out{};
    for_each_kind([&]<typename K>() {
        KindFacts& f = out[kind_index_of<K>()];
        for (Outcome o : K::kOutcomes)
            f.declared[static_cast<std::size_t>(o)] = true;
        f.common_duration = K::kCommonDuration;
    });
    return out;
}();

// The kinds' own families by name: a family two kinds declare (the certificate series of http
// and tls) is written once, with the jobs of both. Built once, in table order.
struct SharedFamily {
    FamilyInfo info;
    std::array<int, kKindCount> index{};  // the family's index in each kind, -1: not declared
};
const std::vector<SharedFamily>& shared_families() {
    static const std::vector<SharedFamily> families = [] {
        std::vector<SharedFamily> out;
        for_each_kind([&]<typename K>() {
            for (std::size_t i = 0; i < K::kFamilies.size(); ++i) {
                auto it = std::find_if(out.begin(), out.end(), [&](const SharedFamily& f) {
                    return f.info.name == K::kFamilies[i].name;
                });
                if (it == out.end()) {
                    out.push_back({K::kFamilies[i], {}});
                    out.back().index.fill(-1);
                    it = out.end() - 1;
                }
                it->index[kind_index_of<K>()] = static_cast<int>(i);
            }
        });
        return out;
    }();
    return families;
}

prometheus::MetricFamily family(std::string_view name, std::string_view help,
                                prometheus::MetricType type) {
    prometheus::MetricFamily f;
    f.name = std::string(name);
    f.help = std::string(help);
    f.type = type;
    return f;
}

prometheus::MetricType metric_type(SeriesType t) {
    switch (t) {
        case SeriesType::gauge:
            return prometheus::MetricType::Gauge;
        case SeriesType::counter:
            return prometheus::MetricType::Counter;
        case SeriesType::histogram:
            return prometheus::MetricType::Histogram;
    }
    return prometheus::MetricType::Untyped;
}

using Label = prometheus::ClientMetric::Label;

// Labels with extra ones merged in name order, as the exposition format expects.
std::vector<Label> with(const std::vector<Label>& base, std::initializer_list<ExtraLabel> extra) {
    auto out = base;
    for (const auto& [name, value] : extra)
        if (!value.empty()) out.push_back({std::string(name), std::string(value)});
    std::sort(out.begin(), out.end());
    return out;
}

prometheus::ClientMetric::Histogram to_client(const HistogramSnapshot& h) {
    prometheus::ClientMetric::Histogram out;
    for (std::size_t i = 0; i < h.cumulative.size(); ++i)
        out.bucket.push_back({h.cumulative[i], i < h.bounds.size()
                                                   ? h.bounds[i]
                                                   : std::numeric_limits<double>::infinity()});
    out.sample_count = h.cumulative.empty() ? 0 : h.cumulative.back();  // count and +Inf agree
    out.sample_sum = h.sum;
    return out;
}

// The series every kind has, in exposition order.
constexpr FamilyInfo kSuccess{"fedprobe_probe_success",
                              "1 when the last probe of this target and kind succeeded, 0 when "
                              "it failed, NaN before the first",
                              SeriesType::gauge};
constexpr FamilyInfo kOutcomes{"fedprobe_probe_outcome_total",
                               "Probes by outcome: each kind's possible outcomes from the start, "
                               "any other once it has happened",
                               SeriesType::counter};
constexpr FamilyInfo kDuration{"fedprobe_probe_duration_seconds",
                               "Connect time or round-trip time, or time until the verdict when "
                               "failed (icmp: see fedprobe_icmp_rtt_seconds)",
                               SeriesType::histogram};
constexpr FamilyInfo kLastError{
    "fedprobe_probe_last_error_info",
    "Why the last probe failed and which device said so; absent after success", SeriesType::gauge};

constexpr FamilyInfo kAsExpected{
    "fedprobe_probe_as_expected",
    "1 when the last probe ended as the config expects (success, or the failure of a service the "
    "policy denies or of a target that declares expect), 0 when not, NaN before the first",
    SeriesType::gauge};
constexpr FamilyInfo kExpected{
    "fedprobe_probe_expected_info",
    "The jobs whose result should not be success: expect (deny, fail or an outcome) and "
    "because (flow:ID or target); always 1",
    SeriesType::gauge};

// Writes a kind's series into a MetricFamily with one job's labels.
class FamilyWriter : public SeriesWriter {
  public:
    FamilyWriter(prometheus::MetricFamily& f, const std::vector<Label>& labels)
        : f_(f), labels_(labels) {}
    void value(std::initializer_list<ExtraLabel> extra, double v) override {
        prometheus::ClientMetric m;
        m.label = with(labels_, extra);
        if (f_.type == prometheus::MetricType::Counter)
            m.counter.value = v;
        else
            m.gauge.value = v;
        f_.metric.push_back(std::move(m));
    }
    void histogram(std::initializer_list<ExtraLabel> extra, const HistogramSnapshot& h) override {
        prometheus::ClientMetric m;
        m.label = with(labels_, extra);
        m.histogram = to_client(h);
        f_.metric.push_back(std::move(m));
    }

  private:
    prometheus::MetricFamily& f_;
    const std::vector<Label>& labels_;
};

using text_exposition::LabelView;

std::string_view type_name(SeriesType t) {
    switch (t) {
        case SeriesType::gauge:
            return "gauge";
        case SeriesType::counter:
            return "counter";
        case SeriesType::histogram:
            return "histogram";
    }
    return "untyped";
}

// Writes a kind's series as exposition text with one job's labels: the same samples, in the
// same order, as FamilyWriter and TextSerializer would give.
class TextWriter : public SeriesWriter {
  public:
    // `scratch` holds merged labels between calls, so that a scrape allocates it once.
    TextWriter(std::string& out, std::string_view name, const std::vector<LabelView>& labels,
               std::vector<LabelView>& scratch)
        : out_(out), name_(name), labels_(labels), merged_(scratch) {}

    void value(std::initializer_list<ExtraLabel> extra, double v) override {
        text_exposition::append_series(out_, name_, "", merged(extra));
        out_.push_back(' ');
        text_exposition::append_value(out_, v);
        out_.push_back('\n');
    }
    void histogram(std::initializer_list<ExtraLabel> extra, const HistogramSnapshot& h) override {
        write_histogram(out_, name_, merged(extra), h);
    }

    static void write_histogram(std::string& out, std::string_view name,
                                std::span<const LabelView> labels, const HistogramSnapshot& h) {
        const std::uint64_t count = h.cumulative.empty() ? 0 : h.cumulative.back();
        text_exposition::append_series(out, name, "_count", labels);
        out.push_back(' ');
        out.append(std::to_string(count));
        out.push_back('\n');
        text_exposition::append_series(out, name, "_sum", labels);
        out.push_back(' ');
        text_exposition::append_value(out, h.sum);
        out.push_back('\n');
        std::string le;
        for (std::size_t i = 0; i < h.cumulative.size(); ++i) {
            le.clear();
            text_exposition::append_value(
                le, i < h.bounds.size() ? h.bounds[i] : std::numeric_limits<double>::infinity());
            text_exposition::append_series(out, name, "_bucket", labels, le);
            out.push_back(' ');
            out.append(std::to_string(h.cumulative[i]));
            out.push_back('\n');
        }
    }

  private:
    // The job's labels with the non-empty extra ones, in name order.
    std::span<const LabelView> merged(std::initializer_list<ExtraLabel> extra) {
        bool any = false;
        for (const auto& e : extra)
            any = any || !e.second.empty();
        if (!any) return labels_;
        merged_.assign(labels_.begin(), labels_.end());
        for (const auto& [name, value] : extra)
            if (!value.empty()) merged_.emplace_back(name, value);
        std::sort(merged_.begin(), merged_.end());
        return merged_;
    }

    std::string& out_;
    std::string_view name_;
    const std::vector<LabelView>& labels_;
    std::vector<LabelView>& merged_;
};

}  // namespace

std::vector<Label> JobSeriesSet::unpack(const PackedLabels& labels) const {
    std::vector<Label> out;
    for (auto& [name, value] : labels.unpack(names_)) {
        Label l;
        l.name = std::move(name);
        l.value = std::move(value);
        out.push_back(std::move(l));
    }
    return out;
}

std::vector<prometheus::MetricFamily> JobSeriesSet::Collect() const {
    using prometheus::ClientMetric;
    auto success = family(kSuccess.name, kSuccess.help, metric_type(kSuccess.type));
    auto outcomes = family(kOutcomes.name, kOutcomes.help, metric_type(kOutcomes.type));
    auto duration = family(kDuration.name, kDuration.help, metric_type(kDuration.type));
    auto last_error = family(kLastError.name, kLastError.help, metric_type(kLastError.type));
    auto as_expected = family(kAsExpected.name, kAsExpected.help, metric_type(kAsExpected.type));
    auto expected = family(kExpected.name, kExpected.help, metric_type(kExpected.type));

    std::shared_lock lock(structure_mutex_);
    // Unpacked once per scrape, for the common families and then each kind's own: the scrape
    // holds them for its length, the series only their packed form.
    std::vector<std::vector<Label>> labels_of;
    labels_of.reserve(order_.size());
    for (const auto& s : order_)
        labels_of.push_back(unpack(s->labels));
    for (std::size_t j = 0; j < order_.size(); ++j) {
        const Series& s = *order_[j];
        const std::vector<Label>& labels = labels_of[j];
        ClientMetric m;
        m.label = labels;
        m.gauge.value = s.success.load(std::memory_order_relaxed);
        success.metric.push_back(std::move(m));
        for (std::size_t i = 0; i < kAllOutcomes.size(); ++i) {
            auto n = s.outcomes[i].load(std::memory_order_relaxed);
            if (n == 0 && !kKindFacts[s.kind].declared[i]) continue;
            ClientMetric c;
            c.label = with(labels, {{"outcome", to_string(kAllOutcomes[i])}});
            c.counter.value = static_cast<double>(n);
            outcomes.metric.push_back(std::move(c));
        }
        if (s.duration) {
            ClientMetric h;
            h.label = labels;
            h.histogram = to_client(s.duration->snapshot());
            duration.metric.push_back(std::move(h));
        }
        std::lock_guard errors(errors_mutex_);
        if (const Series::LastError* le = s.last_error.get()) {
            ClientMetric e;
            e.label = with(labels, {{"outcome", to_string(le->outcome)},
                                    {"reporter", le->reporter},
                                    {"reporter_network", le->reporter_network}});
            e.gauge.value = 1;
            last_error.metric.push_back(std::move(e));
        }
        ClientMetric a;
        a.label = labels;
        a.gauge.value = s.as_expected();
        as_expected.metric.push_back(std::move(a));
        if (s.expect_because) {
            ClientMetric x;
            x.label = with(labels, {{"because", *s.expect_because}, {"expect", s.expect.word()}});
            x.gauge.value = 1;
            expected.metric.push_back(std::move(x));
        }
    }
    std::vector<prometheus::MetricFamily> out;
    for (auto* f : {&success, &outcomes, &duration, &last_error, &as_expected, &expected})
        if (!f->metric.empty()) out.push_back(std::move(*f));
    // Each kind's own families, in table order; a family lists the jobs of the kinds that
    // declare it.
    for (const SharedFamily& sf : shared_families()) {
        auto f = family(sf.info.name, sf.info.help, metric_type(sf.info.type));
        for (std::size_t j = 0; j < order_.size(); ++j) {
            const int i = sf.index[order_[j]->kind];
            if (i < 0) continue;
            FamilyWriter w(f, labels_of[j]);
            order_[j]->own->render(static_cast<std::size_t>(i), w);
        }
        if (!f.metric.empty()) out.push_back(std::move(f));
    }
    return out;
}

void JobSeriesSet::write_text(std::string& out) const {
    std::shared_lock lock(structure_mutex_);
    std::vector<LabelView> labels, scratch;
    // A family's head goes first and comes off again when no job wrote a sample: like
    // Collect(), a family without any is left out, and no family is copied on the way.
    // `kind` limits it to one kind's jobs (kKindCount: every job).
    auto family_of = [&](const FamilyInfo& f, auto&& write_job, std::size_t kind = kKindCount) {
        const std::size_t mark = out.size();
        text_exposition::append_head(out, f.name, f.help, type_name(f.type));
        const std::size_t head_end = out.size();
        for (const auto& s : order_) {
            if (kind != kKindCount && s->kind != kind) continue;
            s->labels.view(names_, labels);
            write_job(*s, TextWriter(out, f.name, labels, scratch));
        }
        if (out.size() == head_end) out.resize(mark);
    };
    family_of(kSuccess, [&](const Series& s, TextWriter&& w) {
        w.value({}, s.success.load(std::memory_order_relaxed));
    });
    family_of(kOutcomes, [&](const Series& s, TextWriter&& w) {
        for (std::size_t i = 0; i < kAllOutcomes.size(); ++i) {
            auto n = s.outcomes[i].load(std::memory_order_relaxed);
            if (n == 0 && !kKindFacts[s.kind].declared[i]) continue;
            w.value({{"outcome", to_string(kAllOutcomes[i])}}, static_cast<double>(n));
        }
    });
    family_of(kDuration, [&](const Series& s, TextWriter&& w) {
        if (s.duration) w.histogram({}, s.duration->snapshot());
    });
    // Locked per job, as Collect() does: the probing thread takes the lock when a job's last
    // error changes, and must not wait for a whole family of 100,000 jobs.
    family_of(kLastError, [&](const Series& s, TextWriter&& w) {
        std::lock_guard errors(errors_mutex_);
        if (const Series::LastError* le = s.last_error.get())
            w.value({{"outcome", to_string(le->outcome)},
                     {"reporter", le->reporter},
                     {"reporter_network", le->reporter_network}},
                    1);
    });
    family_of(kAsExpected, [&](const Series& s, TextWriter&& w) { w.value({}, s.as_expected()); });
    family_of(kExpected, [&](const Series& s, TextWriter&& w) {
        if (s.expect_because)
            w.value({{"because", *s.expect_because}, {"expect", s.expect.word()}}, 1);
    });
    // Each kind's own families, in table order; a family lists the jobs of the kinds that
    // declare it.
    for (const SharedFamily& sf : shared_families())
        family_of(sf.info, [&](const Series& s, TextWriter&& w) {
            if (const int i = sf.index[s.kind]; i >= 0)
                s.own->render(static_cast<std::size_t>(i), w);
        });
}

}  // namespace fedprobe
