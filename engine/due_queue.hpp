// The scheduler's queue of next start times: entries come out earliest first. Most entries a
// scheduler pushes are already in time order for their interval (a job that starts at t is next
// due at t + interval, and jobs start in time order), so each interval gets a FIFO lane, and only
// the rest (rate-limit reservations, new jobs, held-back entries) go to a binary heap. Taking the
// earliest entry is then a look at a few lane fronts instead of a sift through a heap of 100,000
// entries, which missed the cache on most of its 17 levels (2% of the probing thread).
// Not thread-safe: the engine's thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/clock.hpp"
#include "core/duration.hpp"

namespace fedprobe {

class DueQueue {
  public:
    struct Entry {
        TimePoint when;
        std::uint32_t index;    // the caller's job
        std::uint64_t version;  // the caller's staleness check
    };

    // Lanes beyond this many intervals would make every pop scan them; their entries use the heap.
    static constexpr std::size_t kMaxLanes = 8;

    // `lane` groups entries expected to be pushed in time order (the job's interval). An entry
    // earlier than its lane's last goes to the heap, so order never depends on that expectation.
    void push(const Entry& e, Duration lane);
    bool empty() const { return size_ == 0; }
    std::size_t size() const { return size_; }
    // The earliest entry; the queue must not be empty.
    const Entry& top() const;
    Entry pop();
    // Removes every entry `drop` selects; the rest keep their order.
    void erase_if(const std::function<bool(const Entry&)>& drop);

  private:
    // A FIFO on a power-of-two ring, so steady pushing and popping allocates nothing.
    class Ring {
      public:
        bool empty() const { return count_ == 0; }
        std::size_t size() const { return count_; }
        const Entry& front() const { return buf_[head_]; }
        const Entry& back() const { return buf_[(head_ + count_ - 1) & (buf_.size() - 1)]; }
        void push_back(const Entry& e);
        void pop_front();
        void erase_if(const std::function<bool(const Entry&)>& drop);

      private:
        std::vector<Entry> buf_;
        std::size_t head_ = 0, count_ = 0;
    };
    struct Lane {
        Duration key{};
        Ring fifo;
    };
    static constexpr int kHeap = -1;

    // Where the earliest entry is: a lane's index, or kHeap. The queue must not be empty.
    int earliest() const;
    Lane* lane_for(Duration key);

    std::vector<Lane> lanes_;
    std::vector<Entry> heap_;  // a min-heap on `when` (std::push_heap and friends)
    std::size_t size_ = 0;
};

}  // namespace fedprobe
