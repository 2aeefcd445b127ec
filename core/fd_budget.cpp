#include "core/fd_budget.hpp"

#include <algorithm>

namespace fedprobe {

bool FdBudget::try_take() {
    if (in_use_ >= limit_) return false;
    ++in_use_;
    return true;
}

void FdBudget::give() {
    if (in_use_ > 0) --in_use_;
    for (const auto& [id, wake] : waiters_)
        wake();
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
