// Boxed<T>: a value kept on the heap. Copying a Boxed copies the value, so a struct holding one
// stays a plain value type, while it costs one pointer in its holder. Used where a large value
// is absent or small for most holders: a target's per-kind option tables (most targets set
// none) and a request's per-kind params inside a variant whose largest alternative (http) would
// otherwise size every job. Empty when default-constructed or moved from.
// A plain value: the usual rules of one object on one thread at a time.
#pragma once

#include <memory>
#include <utility>

namespace fedprobe {

template <typename T>
class Boxed {
  public:
    Boxed() = default;
    // Implicit, so a variant of boxes takes a T as std::variant<T...> would.
    Boxed(T value)
        : p_(std::make_unique<T>(std::move(value))) {}  // NOLINT(google-explicit-constructor)
    Boxed(const Boxed& other) : p_(other.p_ ? std::make_unique<T>(*other.p_) : nullptr) {}
    Boxed(Boxed&&) noexcept = default;
    Boxed& operator=(const Boxed& other) {
        if (this != &other) p_ = other.p_ ? std::make_unique<T>(*other.p_) : nullptr;
        return *this;
    }
    Boxed& operator=(Boxed&&) noexcept = default;
    Boxed& operator=(T value) {
        p_ = std::make_unique<T>(std::move(value));
        return *this;
    }

    bool has_value() const { return p_ != nullptr; }
    explicit operator bool() const { return has_value(); }
    T* get() { return p_.get(); }
    const T* get() const { return p_.get(); }
    T& operator*() { return *p_; }
    const T& operator*() const { return *p_; }
    T* operator->() { return p_.get(); }
    const T* operator->() const { return p_.get(); }

    friend bool operator==(const Boxed& a, const Boxed& b) requires requires(const T& x) { x == x; }
    {
        if (!a.p_ || !b.p_) return a.p_ == b.p_;
        return *a.p_ == *b.p_;
    }

  private:
    std::unique_ptr<T> p_;
};

}  // namespace fedprobe
