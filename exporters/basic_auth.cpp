#include "exporters/basic_auth.hpp"

#include <crypt.h>

#include <cstring>
#include <memory>

namespace fedprobe {

bool verify_crypt_hash(const std::string& password, const std::string& hash) {
    auto data = std::make_unique<crypt_data>();  // large; keep it off the stack
    // crypt_rn (libxcrypt) rather than crypt_r: the same hashing, and sanitizer runtimes that
    // intercept crypt_r without finding libcrypt's would crash on it.
    const char* out = crypt_rn(password.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
    if (out == nullptr || out[0] == '*')
        return false;  // failure: null, or a token starting with '*'
    std::size_t n = std::strlen(out);
    if (n != hash.size()) return false;
    unsigned char diff = 0;  // constant time over the hash
    for (std::size_t i = 0; i < n; ++i)
        diff |= static_cast<unsigned char>(out[i] ^ hash[i]);
    return diff == 0;
}

BasicAuth::BasicAuth(std::map<std::string, std::string> users, std::function<void()> on_failure)
    : users_(std::move(users)), on_failure_(std::move(on_failure)) {}

bool BasicAuth::check(const std::string& user, const std::string& password) {
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    if (now - window_start_ > kWindow) {
        window_start_ = now;
        failures_ = 0;
    }
    bool ok = false;
    if (failures_ < kMaxFailures) {
        auto it = users_.find(user);
        ok = it != users_.end() && verify_crypt_hash(password, it->second);
    }
    if (!ok) {
        ++failures_;
        if (on_failure_) on_failure_();
    }
    return ok;
}

}  // namespace fedprobe
