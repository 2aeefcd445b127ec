#include "exporters/probe_totals.hpp"

#include <algorithm>

namespace fedprobe {

namespace {

std::span<const FamilyInfo> families_of(std::size_t kind) {
    return visit_kind(kind,
                      []<typename K>() { return std::span<const FamilyInfo>(K::kProbeFamilies); });
}

}  // namespace

ProbeTotals::ProbeTotals() {
    // Every counter from zero, before its probe exists: increase() sees the first ones.
    for (std::size_t k = 0; k < kKindCount; ++k)
        totals_[k].assign(families_of(k).size(), 0);
}

void ProbeTotals::set(std::size_t kind, std::span<const std::uint64_t> totals) {
    if (kind >= kKindCount) return;
    std::lock_guard lock(mutex_);
    auto& mine = totals_[kind];
    for (std::size_t i = 0; i < mine.size() && i < totals.size(); ++i)
        mine[i] = std::max(mine[i], totals[i]);
}

std::vector<prometheus::MetricFamily> ProbeTotals::Collect() const {
    std::vector<prometheus::MetricFamily> out;
    std::lock_guard lock(mutex_);
    for (std::size_t k = 0; k < kKindCount; ++k) {
        const auto families = families_of(k);
        for (std::size_t i = 0; i < families.size(); ++i) {
            prometheus::MetricFamily f;
            f.name = std::string(families[i].name);
            f.help = std::string(families[i].help);
            f.type = prometheus::MetricType::Counter;
            prometheus::ClientMetric m;
            m.counter.value = static_cast<double>(totals_[k][i]);
            f.metric.push_back(std::move(m));
            out.push_back(std::move(f));
        }
    }
    return out;
}

}  // namespace fedprobe
