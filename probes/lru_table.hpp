// A table of at most a given size that evicts what was least recently touched, in two segments
// (segmented LRU): an entry touched once waits on probation; touched again, it is protected,
// and a full table evicts from probation first. So a flood of one-packet spoofed sources churns
// probation only, and the sessions that keep talking keep their place. Finding, touching,
// evicting and expiring those untouched since a time all cost O(1) (amortized for expiry),
// whatever the size. The STAMP reflector keeps its sessions and per-source allowances in these.
// One thread; not synchronised.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/clock.hpp"

namespace fedprobe {

template <typename Value>
class LruTable {
  public:
    struct Entry {
        std::string key;
        Value value{};
        TimePoint touched{};
        bool is_protected = false;
    };

    // The entry for `key`, made (value-initialised) when missing, and marked touched at `now`;
    // `fresh` says whether it was made. A new entry in a full table evicts first.
    Entry& touch(const std::string& key, TimePoint now, std::size_t max_size, bool& fresh) {
        auto it = index_.find(key);
        fresh = it == index_.end();
        if (!fresh) {
            auto node = it->second;
            node->touched = now;
            if (!node->is_protected) {
                node->is_protected = true;
                protected_.splice(protected_.end(), probation_, node);
                // Protected holds at most most of the table: its oldest go back on probation.
                while (protected_.size() > max_size - max_size / 5 && protected_.size() > 1) {
                    protected_.front().is_protected = false;
                    probation_.splice(probation_.end(), protected_, protected_.begin());
                }
            } else {
                protected_.splice(protected_.end(), protected_, node);
            }
            return *node;
        }
        while (size() > 0 && size() >= max_size)
            pop_oldest();
        probation_.push_back(Entry{key, Value{}, now, false});
        // The key's characters live in the list node, which never moves (splice keeps nodes):
        // the index points there.
        index_.emplace(std::string_view(probation_.back().key), std::prev(probation_.end()));
        return probation_.back();
    }

    // Drops entries last touched before `cutoff`, at most `max_drops` of them: only the old
    // ends are looked at, and a call after a long quiet spell does not drop a full table at once
    // (the rest go on later calls; a full table evicts anyway).
    void expire_before(TimePoint cutoff, std::size_t max_drops = SIZE_MAX) {
        for (auto* list : {&probation_, &protected_})
            while (max_drops > 0 && !list->empty() && list->front().touched < cutoff) {
                index_.erase(list->front().key);
                list->pop_front();
                --max_drops;
            }
    }

    std::size_t size() const { return probation_.size() + protected_.size(); }

  private:
    void pop_oldest() {
        auto& list = probation_.empty() ? protected_ : probation_;
        index_.erase(list.front().key);
        list.pop_front();
    }

    std::list<Entry> probation_, protected_;  // each least recently touched first
    std::unordered_map<std::string_view, typename std::list<Entry>::iterator> index_;
};

}  // namespace fedprobe
