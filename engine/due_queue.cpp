#include "engine/due_queue.hpp"

#include <algorithm>

namespace fedprobe {

namespace {

struct Later {
    bool operator()(const DueQueue::Entry& a, const DueQueue::Entry& b) const {
        return a.when > b.when;
    }
};

}  // namespace

void DueQueue::Ring::push_back(const Entry& e) {
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

void DueQueue::Ring::pop_front() {
    head_ = (head_ + 1) & (buf_.size() - 1);
    --count_;
}

void DueQueue::Ring::erase_if(const std::function<bool(const Entry&)>& drop) {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < count_; ++i) {
        const Entry e = buf_[(head_ + i) & (buf_.size() - 1)];
        if (!drop(e)) buf_[(head_ + kept++) & (buf_.size() - 1)] = e;
    }
    count_ = kept;
}

DueQueue::Lane* DueQueue::lane_for(Duration key) {
    Lane* idle = nullptr;
    for (Lane& l : lanes_) {
        if (l.key == key) return &l;
        if (!idle && l.fifo.empty()) idle = &l;
    }
    // A lane whose interval left the config (a reload) is taken over once it has emptied.
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

void DueQueue::push(const Entry& e, Duration lane) {
    ++size_;
    Lane* l = lane_for(lane);
    if (l && (l->fifo.empty() || l->fifo.back().when <= e.when)) {
        l->fifo.push_back(e);
        return;
    }
    heap_.push_back(e);
    std::push_heap(heap_.begin(), heap_.end(), Later{});
}

int DueQueue::earliest() const {
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

const DueQueue::Entry& DueQueue::top() const {
    const int from = earliest();
    return from == kHeap ? heap_.front() : lanes_[static_cast<std::size_t>(from)].fifo.front();
}

DueQueue::Entry DueQueue::pop() {
    const int from = earliest();
    --size_;
    if (from != kHeap) {
        Ring& f = lanes_[static_cast<std::size_t>(from)].fifo;
        const Entry e = f.front();
        f.pop_front();
        return e;
    }
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    const Entry e = heap_.back();
    heap_.pop_back();
    return e;
}

void DueQueue::erase_if(const std::function<bool(const Entry&)>& drop) {
    for (Lane& l : lanes_)
        l.fifo.erase_if(drop);
    std::erase_if(heap_, drop);
    std::make_heap(heap_.begin(), heap_.end(), Later{});
    size_ = heap_.size();
    for (const Lane& l : lanes_)
        size_ += l.fifo.size();
}

}  // namespace fedprobe
