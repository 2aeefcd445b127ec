#include "exporters/basic_auth.hpp"

#include <crypt.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "core/address.hpp"

namespace fedprobe {
namespace {

// bcrypt's cost is the two digits after "$2b$"; other schemes count as cost 0.
int bcrypt_cost(const std::string& hash) {
    if (hash.size() < 7 || hash[0] != '$' || hash[1] != '2' || hash[3] != '$') return 0;
    if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9') return 0;
    return (hash[4] - '0') * 10 + (hash[5] - '0');
}

std::string make_decoy(const std::map<std::string, std::string>& users) {
    const std::string* costliest = nullptr;
    for (const auto& [user, hash] : users)
        if (!costliest || bcrypt_cost(hash) > bcrypt_cost(*costliest)) costliest = &hash;
    if (!costliest) return {};
    // The hash itself is a valid setting: the same algorithm, cost and salt. An unknown user's
    // password is checked against the result and refused whatever the comparison says.
    auto data = std::make_unique<crypt_data>();
    const char* out =
        crypt_rn("fedprobe-decoy", costliest->c_str(), data.get(), sizeof(crypt_data));
    if (out == nullptr || out[0] == '*') return *costliest;
    return out;
}

}  // namespace

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

std::string auth_client_key(std::string_view client) {
    auto a = IpAddress::parse(client);
    if (!a) return std::string(client.substr(0, 64));
    static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (a->family == AF_INET6 && std::equal(kMapped, kMapped + 12, a->bytes.begin())) {
        IpAddress v4;
        v4.family = AF_INET;
        std::copy(a->bytes.begin() + 12, a->bytes.end(), v4.bytes.begin());
        return v4.str();
    }
    if (a->family == AF_INET6) {
        std::fill(a->bytes.begin() + 8, a->bytes.end(), 0);
        return a->str() + "/64";
    }
    return a->str();
}

BasicAuth::BasicAuth(std::map<std::string, std::string> users, std::function<void()> on_failure,
                     Verifier verify)
    : users_(std::move(users)),
      on_failure_(std::move(on_failure)),
      verify_(verify ? std::move(verify) : Verifier(verify_crypt_hash)),
      decoy_(make_decoy(users_)) {}

BasicAuth::Bucket* BasicAuth::bucket(const std::string& key,
                                     std::chrono::steady_clock::time_point now, bool create) {
    auto expired = [&](const Bucket& b) { return now - b.window_start > kWindow; };
    if (auto it = clients_.find(key); it != clients_.end()) {
        if (expired(it->second)) it->second = Bucket{0, now};
        return &it->second;
    }
    if (!create) {
        // Not seen failing: only the overflow bucket, while it is full, holds it back.
        return clients_.size() >= kMaxClients ? &overflow_ : nullptr;
    }
    if (clients_.size() >= kMaxClients)
        std::erase_if(clients_, [&](const auto& kv) { return expired(kv.second); });
    if (clients_.size() >= kMaxClients) {
        if (expired(overflow_)) overflow_ = Bucket{0, now};
        return &overflow_;
    }
    return &clients_.emplace(key, Bucket{0, now}).first->second;
}

void BasicAuth::fail(const std::string& key, std::chrono::steady_clock::time_point now) {
    {
        std::lock_guard lock(mutex_);
        Bucket* b = bucket(key, now, true);
        ++b->failures;
    }
    if (on_failure_) on_failure_();
}

bool BasicAuth::check(std::string_view client, const std::string& user,
                      const std::string& password) {
    const std::string key = auth_client_key(client);
    const auto now = std::chrono::steady_clock::now();
    bool locked = false;
    {
        std::lock_guard lock(mutex_);
        Bucket* b = bucket(key, now, false);
        locked = b && now - b->window_start <= kWindow && b->failures >= kMaxFailures;
    }
    if (locked) {
        // Refused without bcrypt time, and without extending the window.
        if (on_failure_) on_failure_();
        return false;
    }
    // crypt(3) stops at a NUL, so "s3cret\0anything" would match "s3cret": refuse it. The
    // hash still runs, so the refusal costs what any wrong password costs.
    const bool has_nul =
        user.find('\0') != std::string::npos || password.find('\0') != std::string::npos;
    auto it = users_.find(user);
    const bool known = it != users_.end() && !has_nul;
    const bool ok = verify_(password, known ? it->second : decoy_) && known;
    if (!ok) fail(key, now);
    return ok;
}

}  // namespace fedprobe
