// Basic auth for the metrics endpoint, with bcrypt hashes as in Prometheus' web config.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace fedprobe {

class BasicAuth {
  public:
    // users: name -> bcrypt hash. on_failure runs (on the HTTP thread) for each rejected attempt.
    BasicAuth(std::map<std::string, std::string> users, std::function<void()> on_failure = {});

    // Thread-safe; called from the HTTP server's threads. After kMaxFailures failed attempts
    // within kWindow, every attempt is refused for kWindow without spending bcrypt time, which
    // throttles guessing (the Cyber Essentials rule of thumb of ten attempts).
    bool check(const std::string& user, const std::string& password);

    static constexpr int kMaxFailures = 10;
    static constexpr std::chrono::seconds kWindow{60};

  private:
    std::map<std::string, std::string> users_;
    std::function<void()> on_failure_;
    std::mutex mutex_;
    int failures_ = 0;
    std::chrono::steady_clock::time_point window_start_{};
};

// True when password matches the bcrypt (or other crypt(3)) hash.
bool verify_crypt_hash(const std::string& password, const std::string& hash);

}  // namespace fedprobe
