// Boxed<T>: a value kept on the heap, behind one pointer, and shared between copies until one
// of them is written to (copy on write). A struct holding one stays a plain value type, while
// it costs one pointer in its holder; used where a value is absent or small for most holders,
// or the same for many: a target's per-kind option tables (most targets set none, and a
// generated config repeats the same few) and a request's per-kind params inside a variant
// whose largest alternative (http) would otherwise size every job. Empty when
// default-constructed or moved from.
//
// Threads: as a std::shared_ptr<const T>. Copies held by different threads may be read, copied
// and destroyed at once (the count is atomic); one Boxed object is used by one thread at a
// time. A write (edit()) first gives this holder its own copy when shared, so no
// other holder ever sees it.
//
// BoxPool<T> makes equal values share one box: the loader and the job builder pass each new
// box through one, so 100,000 targets with `icmp = { packets = 1 }` hold one IcmpOptions.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace fedprobe {

template <typename T>
class Boxed {
  public:
    Boxed() = default;
    // Implicit, so a variant of boxes takes a T as std::variant<T...> would.
    Boxed(T value) : n_(new Node(std::move(value))) {}  // NOLINT(google-explicit-constructor)
    Boxed(const Boxed& other) : n_(other.n_) {
        if (n_) n_->refs.fetch_add(1, std::memory_order_relaxed);
    }
    Boxed(Boxed&& other) noexcept : n_(std::exchange(other.n_, nullptr)) {}
    Boxed& operator=(const Boxed& other) {
        Boxed(other).swap(*this);
        return *this;
    }
    Boxed& operator=(Boxed&& other) noexcept {
        Boxed(std::move(other)).swap(*this);
        return *this;
    }
    Boxed& operator=(T value) {
        Boxed(std::move(value)).swap(*this);
        return *this;
    }
    ~Boxed() { release(); }
    void swap(Boxed& other) noexcept { std::swap(n_, other.n_); }

    bool has_value() const { return n_ != nullptr; }
    explicit operator bool() const { return has_value(); }
    // Whether this and `other` hold the very same value object (not merely equal values).
    bool shares_with(const Boxed& other) const { return n_ != nullptr && n_ == other.n_; }

    // Reading never copies, whether the box is const or not.
    const T* get() const { return n_ ? &n_->value : nullptr; }
    const T& operator*() const { return n_->value; }
    const T* operator->() const { return get(); }
    // Writing is named, so a read never unshares by accident: the value, made this holder's
    // own first when it is shared. The box must hold a value.
    T& edit() { return *own(); }

    friend bool operator==(const Boxed& a, const Boxed& b) requires requires(const T& x) { x == x; }
    {
        if (!a.n_ || !b.n_) return a.n_ == b.n_;
        return a.n_ == b.n_ || a.n_->value == b.n_->value;
    }

  private:
    struct Node {
        explicit Node(T v) : value(std::move(v)) {}
        std::atomic<std::uint32_t> refs{1};
        T value;
    };
    Node* n_ = nullptr;

    void release() {
        // acq_rel: the last holder's delete sees every other holder's reads finished.
        if (n_ && n_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete n_;
        n_ = nullptr;
    }
    T* own() {
        if (!n_) return nullptr;
        if (n_->refs.load(std::memory_order_acquire) != 1) {
            Node* mine = new Node(n_->value);
            release();
            n_ = mine;
        }
        return &n_->value;
    }
};

template <typename T>
class BoxPool {
  public:
    // Returns a box equal to `box` that shares with an earlier equal one when one of the last
    // kRecent distinct values matches; otherwise `box` itself, remembered. Configs repeat a few
    // option tables over many targets, so a short list finds them without hashing every kind's
    // options.
    Boxed<T> intern(Boxed<T> box) {
        if (!box) return box;
        for (const Boxed<T>& seen : recent_)
            if (*seen == *box) return seen;
        if (recent_.size() == kRecent) recent_.erase(recent_.begin());
        recent_.push_back(box);
        return box;
    }

  private:
    static constexpr std::size_t kRecent = 8;
    std::vector<Boxed<T>> recent_;
};

}  // namespace fedprobe
