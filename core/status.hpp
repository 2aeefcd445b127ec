// fedprobe's one error convention. A function that can fail returns Status (nothing else to
// return) or Result<T> (a value or the Status saying why not); the message is for people and
// says what failed and why ("SO_BINDTODEVICE: No such device"). Exceptions stop at library
// edges (toml++, prometheus-cpp, std::filesystem) and are turned into these there. The config
// loader is the one place that collects many located problems at once: it reports Diagnostics.
// Plain values; any thread.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace fedprobe {

class [[nodiscard]] Status {
  public:
    Status() = default;  // success
    static Status error(std::string message) { return Status(std::move(message)); }
    // "what: strerror(err)", the form every syscall failure takes.
    static Status from_errno(std::string_view what, int err) {
        return Status(std::string(what) + ": " + std::strerror(err));
    }

    bool ok() const { return !failed_; }
    const std::string& message() const { return message_; }

  private:
    explicit Status(std::string message) : failed_(true), message_(std::move(message)) {}
    bool failed_ = false;
    std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value) : v_(std::move(value)) {}         // NOLINT
    Result(Status status) : v_(std::move(status)) {}  // NOLINT

    bool ok() const { return v_.index() == 0; }
    T& value() { return std::get<0>(v_); }
    const T& value() const { return std::get<0>(v_); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    Status status() const { return ok() ? Status() : std::get<1>(v_); }

  private:
    std::variant<T, Status> v_;
};

}  // namespace fedprobe
