#include "probes/path/path_mtu.hpp"

#include <algorithm>
#include <array>

namespace fedprobe {

namespace {

// RFC 1191 section 7, merged with the MTUs of tunnels and encapsulations common between
// organisations: PPPoE 1492, GRE 1476/1480, IPsec 1400-1454, IPv6 minimum 1280.
constexpr std::array kPlateaus = {65535, 32000, 17914, 8166, 4352, 2002, 1500, 1492, 1480, 1472,
                                  1454,  1436,  1420,  1400, 1380, 1280, 1006, 508,  296,  68};

}  // namespace

std::string_view to_string(PathMtu::Source s) {
    return s == PathMtu::Source::ptb ? "ptb" : "search";
}

std::span<const int> mtu_plateaus() {
    return kPlateaus;
}

MtuSearch::MtuSearch(int local_mtu, int floor, int known_ok, int destination_ttl)
    : floor_(floor),
      lo_(known_ok),
      hi_(std::min(local_mtu, 65535) + 1),
      destination_ttl_(destination_ttl) {
    result_.local_mtu = std::min(local_mtu, 65535);
}

std::vector<MtuProbe> MtuSearch::next() {
    stage_.clear();
    if (done_) return {};
    auto untried = [this](int s) {
        return s > lo_ && s < hi_ && s >= floor_ &&
               std::find(tried_.begin(), tried_.end(), s) == tried_.end();
    };
    if (result_.stages == 0) {
        stage_.push_back({result_.local_mtu, 0});
    } else if (!locating_ && lo_ + 1 < hi_ && result_.stages < kMaxStages) {
        // A packet-too-big's value first: it is usually the answer.
        for (const auto& p : ptbs_)
            if (untried(p.mtu) && stage_.empty()) stage_.push_back({p.mtu, 0});
        if (stage_.empty())
            for (int s : kPlateaus)
                if (untried(s) && stage_.size() < kMaxProbes) stage_.push_back({s, 0});
        if (stage_.empty()) {
            const int gap = hi_ - lo_;
            const int n = static_cast<int>(std::min<std::size_t>(kRefine, gap - 1));
            for (int k = n; k >= 1; --k) {
                const int s = lo_ + static_cast<int>(static_cast<long>(gap) * k / (n + 1));
                if (untried(s) && (stage_.empty() || stage_.back().size != s))
                    stage_.push_back({s, 0});
            }
        }
    }
    // A search where nothing of the family's least MTU (68, 1280) got through found loss, not
    // a link narrower than any link may be: no black-hole stage for it.
    if (stage_.empty() && !locating_ && lo_ >= floor_) {
        if (auto size = hole_size(); size && destination_ttl_ > 1) {
            locating_ = true;
            result_.blackhole_size = *size;
            const int last = std::min<int>(destination_ttl_ - 1, static_cast<int>(kMaxProbes));
            for (int ttl = 1; ttl <= last; ++ttl)
                stage_.push_back({*size, ttl});
        }
    }
    if (stage_.empty()) {
        conclude();
        return {};
    }
    ++result_.stages;
    for (const auto& p : stage_)
        if (p.ttl == 0) tried_.push_back(p.size);
    return stage_;
}

void MtuSearch::reached(std::size_t i) {
    if (i >= stage_.size()) return;
    const int size = stage_[i].size;
    lo_ = std::max(lo_, size);
    if (hi_ <= lo_) hi_ = lo_ + 1;
    // A packet-too-big's value that arrives is the answer: the router said that anything
    // larger does not pass (RFC 1191), so the search need not find out again.
    for (const auto& p : ptbs_)
        if (p.mtu == size) hi_ = std::min(hi_, size + 1);
}

void MtuSearch::failed(int size) {
    hi_ = std::min(hi_, size);
    if (hi_ <= lo_) lo_ = hi_ - 1;  // a larger size arrived before: the path changed; trust now
}

void MtuSearch::too_big(std::size_t i, int next_hop_mtu, std::optional<IpAddress> reporter) {
    if (i >= stage_.size() || stage_[i].ttl != 0) return;
    const int size = stage_[i].size;
    failed(size);
    // A value at or above the size it answered, or below the minimum, says nothing.
    if (next_hop_mtu >= floor_ && next_hop_mtu < size)
        ptbs_.push_back(Ptb{next_hop_mtu, size, std::move(reporter)});
    else
        ptbs_.push_back(Ptb{0, size, std::move(reporter)});
}

void MtuSearch::hop_answered(std::size_t i, const IpAddress& from) {
    if (i >= stage_.size()) return;
    if (stage_[i].ttl == 0) {  // a size probe that timed out on the way: the path is longer
        silent(i);
        return;
    }
    if (stage_[i].ttl > result_.blackhole_ttl) {
        result_.blackhole_ttl = stage_[i].ttl;
        result_.blackhole_hop = from;
    }
}

void MtuSearch::silent(std::size_t i) {
    if (i >= stage_.size() || stage_[i].ttl != 0) return;
    failed(stage_[i].size);
    silent_sizes_.push_back(stage_[i].size);
}

// The smallest size above lo that vanished with no packet-too-big to explain it. A
// packet-too-big for a smaller size or a smaller MTU explains it, and so does one that gave no
// usable MTU (the path does send them): routers rate-limit those, so of several large probes
// sent at once only some get one. A local EMSGSIZE explains only sizes from its own up.
std::optional<int> MtuSearch::hole_size() const {
    std::optional<int> best;
    for (int s : silent_sizes_) {
        if (s <= lo_) continue;
        const bool explained = std::any_of(ptbs_.begin(), ptbs_.end(), [&](const Ptb& p) {
            return p.size <= s || (p.mtu < s && (p.mtu || p.from));
        });
        if (!explained && (!best || s < *best)) best = s;
    }
    return best;
}

void MtuSearch::conclude() {
    done_ = true;
    // Only the trace's small probes got through, nothing at the family's least MTU: every
    // size was lost (loss, rate limits under load), which says nothing of the MTU.
    if (lo_ < floor_) lo_ = 0;
    result_.mtu = lo_;
    result_.lowest_failed = hi_ <= result_.local_mtu ? hi_ : 0;
    for (const auto& p : ptbs_)
        if (p.mtu && p.mtu == lo_) {
            result_.source = PathMtu::Source::ptb;
            result_.reporter = p.from;
        }
    if (lo_ > 0) {
        if (auto size = hole_size()) {
            result_.blackhole = true;
            result_.blackhole_size = *size;
        }
    }
    if (!result_.blackhole) {
        result_.blackhole_ttl = 0;
        result_.blackhole_hop.reset();
    }
}

}  // namespace fedprobe
