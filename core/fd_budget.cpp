#include "core/fd_budget.hpp"

#include <algorithm>
#include <vector>

namespace fedprobe {

bool FdBudget::try_take() {
    if (in_use_ >= limit_) return false;
    ++in_use_;
    return true;
}

void FdBudget::give() {
    if (in_use_ > 0) --in_use_;
    if (waiters_.empty()) return;
    if (!defer_) return wake_waiters();
    if (wake_pending_) return;  // one wake-up for every give of this round
    wake_pending_ = true;
    defer_([this] {
        wake_pending_ = false;
        wake_waiters();
    });
}

void FdBudget::wake_waiters() {
    // A waiter may add or remove waiters while it runs: walk a snapshot of the ids.
    std::vector<std::uint64_t> ids;
    ids.reserve(waiters_.size());
    for (const auto& [id, wake] : waiters_)
        ids.push_back(id);
    for (std::uint64_t id : ids)
        if (auto it = waiters_.find(id); it != waiters_.end()) it->second();
}

void FdBudget::shrink_to_in_use() {
    limit_ = std::min(limit_, in_use_);
}

std::uint64_t FdBudget::add_waiter(std::function<void()> wake) {
    waiters_.emplace(next_id_, std::move(wake));
    return next_id_++;
}

void FdBudget::remove_waiter(std::uint64_t id) {
    waiters_.erase(id);
}

std::size_t probe_descriptor_budget(std::size_t soft_limit, std::size_t open_now) {
    const std::size_t reserve = std::clamp<std::size_t>(soft_limit / 8, 16, 256);
    if (soft_limit <= open_now + reserve) return 0;
    return soft_limit - open_now - reserve;
}

}  // namespace fedprobe
