// Entries that come out earliest first, for queues where most entries are pushed already in
// time order per key: a round's timeout is set at now + timeout, and a job that starts at t is
// next due at t + interval. Each key (a timeout, an interval) gets a FIFO lane, and only entries
// earlier than their lane's last (rate-limit slots, new jobs, a clock that went back) go to a
// binary heap. Taking the earliest entry is then a look at a few lane fronts, where a heap of
// 100,000 entries missed the cache on most of its 17 levels (2% of the probing thread for the
// scheduler, and one in ten CPU-µs as a loop timer per round's timeout).
// Stale entries are not removed: their owner skips them as they come out (a generation it keeps),
// or sweeps them with erase_if.
// Not thread-safe: one thread (the event loop's) owns it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/duration.hpp"

namespace fedprobe {

// Entry: any copyable type with a `TimePoint when`.
template <typename Entry>
class DueQueue {
  public:
    // Keys beyond this many would make every pop scan their lanes; their entries use the heap.
    static constexpr std::size_t kMaxLanes = 8;

    // `key` groups entries expected to be pushed in time order. An entry earlier than its lane's
    // last goes to the heap, so the order never depends on that expectation.
    void push(const Entry& e, Duration key) {
        ++size_;
        Lane* l = lane_for(key);
        if (l && (l->fifo.empty() || l->fifo.back().when <= e.when)) {
            l->fifo.push_back(e);
            return;
        }
        heap_.push_back(e);
        std::push_heap(heap_.begin(), heap_.end(), Later{});
    }

    bool empty() const { return size_ == 0; }
    std::size_t size() const { return size_; }

    // The earliest entry; the queue must not be empty.
    const Entry& top() const { return at(earliest_source()); }

    std::optional<TimePoint> earliest() const {
        if (empty()) return std::nullopt;
        return top().when;
    }

    // Removes and returns the earliest entry; the queue must not be empty.
    Entry pop() { return pop_from(earliest_source()); }

    // The earliest entry, removed, if it is due at `now`: the lanes are scanned once.
    std::optional<Entry> pop_due(TimePoint now) {
        if (empty()) return std::nullopt;
        const int from = earliest_source();
        if (at(from).when > now) return std::nullopt;
        return pop_from(from);
    }

    // Removes every entry `drop` selects; the rest keep their order.
    template <typename Pred>
    void erase_if(Pred drop) {
        size_ = 0;
        for (Lane& l : lanes_) {
            l.fifo.erase_if(drop);
            size_ += l.fifo.size();
        }
        std::erase_if(heap_, drop);
        std::make_heap(heap_.begin(), heap_.end(), Later{});
        size_ += heap_.size();
    }

  private:
    // A FIFO on a power-of-two ring, so steady pushing and popping allocates nothing.
    class Ring {
      public:
        bool empty() const { return count_ == 0; }
        std::size_t size() const { return count_; }
        const Entry& front() const { return buf_[head_]; }
        const Entry& back() const { return buf_[(head_ + count_ - 1) & (buf_.size() - 1)]; }
        void push_back(const Entry& e) {
            if (count_ == buf_.size()) {
                std::vector<Entry> grown(std::max<std::size_t>(16, buf_.size() * 2));
                for (std::size_t i = 0; i < count_; ++i)
                    grown[i] = buf_[(head_ + i) & (buf_.size() - 1)];
                buf_ = std::move(grown);
                head_ = 0;
            }
            buf_[(head_ + count_) & (buf_.size() - 1)] = e;
            ++count_;
        }
        void pop_front() {
            head_ = (head_ + 1) & (buf_.size() - 1);
            --count_;
        }
        template <typename Pred>
        void erase_if(Pred drop) {
            std::size_t kept = 0;
            for (std::size_t i = 0; i < count_; ++i) {
                const Entry e = buf_[(head_ + i) & (buf_.size() - 1)];
                if (!drop(e)) buf_[(head_ + kept++) & (buf_.size() - 1)] = e;
            }
            count_ = kept;
        }

      private:
        std::vector<Entry> buf_;
        std::size_t head_ = 0, count_ = 0;
    };
    struct Lane {
        Duration key{};
        Ring fifo;
    };
    struct Later {
        bool operator()(const Entry& a, const Entry& b) const { return a.when > b.when; }
    };
    static constexpr int kHeap = -1;

    const Entry& at(int from) const {
        return from == kHeap ? heap_.front() : lanes_[static_cast<std::size_t>(from)].fifo.front();
    }

    Entry pop_from(int from) {
        --size_;
        if (from != kHeap) {
            Ring& f = lanes_[static_cast<std::size_t>(from)].fifo;
            Entry e = f.front();
            f.pop_front();
            return e;
        }
        std::pop_heap(heap_.begin(), heap_.end(), Later{});
        Entry e = std::move(heap_.back());
        heap_.pop_back();
        return e;
    }

    // Where the earliest entry is: a lane's index, or kHeap. The queue must not be empty.
    int earliest_source() const {
        int best = kHeap;
        const Entry* at = heap_.empty() ? nullptr : &heap_.front();
        for (std::size_t i = 0; i < lanes_.size(); ++i) {
            const Ring& f = lanes_[i].fifo;
            if (!f.empty() && (!at || f.front().when < at->when)) {
                best = static_cast<int>(i);
                at = &f.front();
            }
        }
        return best;
    }

    Lane* lane_for(Duration key) {
        Lane* idle = nullptr;
        for (Lane& l : lanes_) {
            if (l.key == key) return &l;
            if (!idle && l.fifo.empty()) idle = &l;
        }
        // A lane whose key left (a reload) is taken over once it has emptied.
        if (idle) {
            idle->key = key;
            return idle;
        }
        if (lanes_.size() < kMaxLanes) {
            lanes_.push_back(Lane{key, {}});
            return &lanes_.back();
        }
        return nullptr;
    }

    std::vector<Lane> lanes_;
    std::vector<Entry> heap_;  // a min-heap on `when` (std::push_heap and friends)
    std::size_t size_ = 0;
};

}  // namespace fedprobe
