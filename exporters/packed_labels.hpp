// A job series' labels, packed small: at 100,000 jobs every byte a series keeps is 100 KB.
// The names (site, network, target, probe, service and the targets' own label names) are the
// same for nearly every series, so a set keeps them once in LabelNames and each series packs
// only a name's index and its value, in one heap block behind one pointer.
//
// Threads: plain values. The owner (JobSeriesSet) guards a LabelNames and the series that refer
// to it with its own lock: adding names writes, reading views reads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/jobs.hpp"
#include "exporters/text_exposition.hpp"

namespace fedprobe {

// Every label name seen, each once, by index; indexes never change. Bounded by the config's
// label names, not by the number of jobs.
class LabelNames {
  public:
    std::uint32_t id(std::string_view name);  // adds it when new
    std::string_view name(std::uint32_t id) const { return *names_.at(id); }
    std::size_t size() const { return names_.size(); }

  private:
    std::map<std::string, std::uint32_t, std::less<>> ids_;
    std::vector<const std::string*> names_;  // by id: the map's own keys, which never move
};

class PackedLabels {
  public:
    PackedLabels() = default;
    // Sorted by name (as Labels, a std::map, holds them); empty values are left out, as
    // Prometheus treats an empty label as an absent one. Values may hold any byte.
    PackedLabels(const Labels& labels, LabelNames& names);
    PackedLabels(const PackedLabels&) = delete;
    PackedLabels& operator=(const PackedLabels&) = delete;
    PackedLabels(PackedLabels&&) noexcept = default;
    PackedLabels& operator=(PackedLabels&&) noexcept = default;

    // Name and value views in name order, valid while this and `names` live; `out` is cleared.
    void view(const LabelNames& names, std::vector<text_exposition::LabelView>& out) const;
    std::vector<std::pair<std::string, std::string>> unpack(const LabelNames& names) const;
    std::size_t bytes() const;  // the packed block's size (0 when there is none)

    friend bool operator==(const PackedLabels& a, const PackedLabels& b);

  private:
    // [varint: size of what follows] then per label [varint: name id][varint: length][value].
    std::unique_ptr<char[]> block_;
};

}  // namespace fedprobe
