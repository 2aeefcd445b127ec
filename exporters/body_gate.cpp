#include "exporters/body_gate.hpp"

#include <algorithm>

namespace fedprobe {

bool BodyGate::room() const {
    return in_flight_ < min_bodies_ || bytes_ + (unbuilt_ + 1) * last_body_ <= byte_budget_;
}

BodyGate::Entry BodyGate::enter(Waiter w, const std::function<void()>& park) {
    std::lock_guard lock(mu_);
    if (stopping_) return Entry::refused;
    // Behind others already waiting, even with room: a steady stream of new scrapes must not
    // starve the parked ones.
    if (waiting_.empty() && room()) {
        ++in_flight_;
        ++unbuilt_;
        return Entry::admitted;
    }
    waiting_.push_back(w);
    park();
    return Entry::parked;
}

void BodyGate::built(std::size_t bytes) {
    std::lock_guard lock(mu_);
    if (unbuilt_ > 0) --unbuilt_;
    bytes_ += bytes;
    // A decaying maximum: a small reply (a 401) between scrapes must not make the next
    // scrape's estimate small.
    last_body_ = std::max(bytes, last_body_ - last_body_ / 8);
}

void BodyGate::release(std::optional<std::size_t> built,
                       const std::function<void(Waiter)>& resume) {
    std::lock_guard lock(mu_);
    if (in_flight_ > 0) --in_flight_;
    if (built)
        bytes_ -= std::min(*built, bytes_);
    else if (unbuilt_ > 0)
        --unbuilt_;
    while (!stopping_ && !waiting_.empty() && room()) {
        const Waiter w = waiting_.front();
        waiting_.pop_front();
        ++in_flight_;
        ++unbuilt_;
        resume(w);
    }
}

void BodyGate::forget(Waiter w) {
    std::lock_guard lock(mu_);
    waiting_.erase(std::remove(waiting_.begin(), waiting_.end(), w), waiting_.end());
}

void BodyGate::stop(const std::function<void(Waiter)>& resume) {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (const Waiter w : waiting_)
        resume(w);
    waiting_.clear();
}

std::size_t BodyGate::in_flight() const {
    std::lock_guard lock(mu_);
    return in_flight_;
}
std::size_t BodyGate::bytes_in_flight() const {
    std::lock_guard lock(mu_);
    return bytes_;
}
std::size_t BodyGate::waiting() const {
    std::lock_guard lock(mu_);
    return waiting_.size();
}

}  // namespace fedprobe
