// Deadlines kept in the order they were set, one queue per distinct timeout. On a monotonic
// clock `now + timeout` never decreases within a queue, so the earliest deadline is always at
// the front of one: adding and expiring cost O(1). A heap of timers, as the event loop keeps,
// pays log n cache misses per operation at 100,000 rounds in flight, and a hash node for each.
// A deadline that no longer matters (its round ended early) is not removed: it stays until it
// comes due and its owner skips it, recognising it by the generation it was set with.
// Not thread-safe: one thread (the event loop's) owns it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "core/clock.hpp"
#include "core/duration.hpp"

namespace fedprobe {

class DeadlineFifo {
  public:
    struct Entry {
        TimePoint when;
        std::uint32_t id;          // the owner's, e.g. an index into its table of rounds
        std::uint32_t generation;  // the owner's, to recognise a deadline that no longer matters
    };

    // A deadline at now + timeout, returned. `now` never goes back between calls (the monotonic
    // clock); were it to, the deadline is kept no earlier than the queue's last, so the order
    // holds.
    TimePoint push(Duration timeout, TimePoint now, std::uint32_t id, std::uint32_t generation) {
        auto it = std::find_if(queues_.begin(), queues_.end(),
                               [&](const Queue& q) { return q.timeout == timeout; });
        if (it == queues_.end()) it = queues_.insert(queues_.end(), Queue{timeout, {}});
        TimePoint when = now + std::chrono::duration_cast<Clock::duration>(timeout);
        if (!it->entries.empty()) when = std::max(when, it->entries.back().when);
        it->entries.push_back(Entry{when, id, generation});
        ++size_;
        return when;
    }

    // The earliest deadline, if any.
    std::optional<TimePoint> earliest() const {
        const std::size_t q = first();
        if (q == kNone) return std::nullopt;
        return queues_[q].entries.front().when;
    }

    // Removes and returns the earliest deadline if it is due at `now`.
    std::optional<Entry> pop_due(TimePoint now) {
        const std::size_t q = first();
        if (q == kNone || queues_[q].entries.front().when > now) return std::nullopt;
        Entry e = queues_[q].entries.front();
        queues_[q].entries.pop_front();
        --size_;
        return e;
    }

    std::size_t size() const { return size_; }

  private:
    struct Queue {
        Duration timeout;
        std::deque<Entry> entries;
    };
    static constexpr std::size_t kNone = SIZE_MAX;
    // The queue whose front is earliest. Rounds use a handful of distinct timeouts, so a scan
    // beats any index.
    std::size_t first() const {
        std::size_t best = kNone;
        for (std::size_t i = 0; i < queues_.size(); ++i)
            if (!queues_[i].entries.empty() &&
                (best == kNone ||
                 queues_[i].entries.front().when < queues_[best].entries.front().when))
                best = i;
        return best;
    }
    std::vector<Queue> queues_;
    std::size_t size_ = 0;
};

}  // namespace fedprobe
