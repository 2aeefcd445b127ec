// Basic auth for the metrics endpoint, with bcrypt hashes as in Prometheus' web config, made
// safe to face a hostile network:
// - a wrong user costs what a wrong password costs (one hash of the same cost), so timing
//   does not tell which usernames exist;
// - guessing is throttled per client (an IPv4 address, or an IPv6 /64), so one client's bad
//   attempts never lock Prometheus out;
// - a NUL in a user or password is refused, never truncated by crypt(3).
//
// check() is thread-safe and called on the HTTP server's threads; bcrypt runs outside the
// lock, so one slow attempt does not hold up the others.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace fedprobe {

class BasicAuth {
  public:
    // Checks a password against a crypt(3) hash; replaceable so tests can count its calls.
    using Verifier = std::function<bool(const std::string& password, const std::string& hash)>;

    // users: name -> bcrypt hash. on_failure runs (on the HTTP thread) for each rejected attempt.
    BasicAuth(std::map<std::string, std::string> users, std::function<void()> on_failure = {},
              Verifier verify = {});

    // client: the peer's address as the HTTP server gives it ("192.0.2.7", "2001:db8::1"); an
    // unparsable one is throttled as a client of its own. After kMaxFailures failed attempts
    // within kWindow, that client's attempts are refused for the rest of the window without
    // spending bcrypt time (the Cyber Essentials rule of thumb of ten attempts).
    bool check(std::string_view client, const std::string& user, const std::string& password);

    // The hash an unknown user's password is checked against: a real hash of the same
    // algorithm and cost as the costliest configured one, so the refusal takes as long.
    const std::string& decoy_hash() const { return decoy_; }

    static constexpr int kMaxFailures = 10;
    static constexpr std::chrono::seconds kWindow{60};
    // Clients with recent failures that are remembered apart; beyond that (a flood from many
    // addresses), new failing clients share one bucket, so memory stays bounded.
    static constexpr std::size_t kMaxClients = 4096;

  private:
    struct Bucket {
        int failures = 0;
        std::chrono::steady_clock::time_point window_start{};
    };

    std::map<std::string, std::string> users_;
    std::function<void()> on_failure_;
    Verifier verify_;
    std::string decoy_;
    std::mutex mutex_;
    std::unordered_map<std::string, Bucket> clients_;  // guarded by mutex_
    Bucket overflow_;                                  // guarded by mutex_

    Bucket* bucket(const std::string& key, std::chrono::steady_clock::time_point now, bool create);
    void fail(const std::string& key, std::chrono::steady_clock::time_point now);
};

// True when password matches the bcrypt (or other crypt(3)) hash.
bool verify_crypt_hash(const std::string& password, const std::string& hash);

// The throttling key of a client address: an IPv4 address whole, an IPv6 address's /64 (one
// host or LAN usually holds a whole /64), an IPv4-mapped IPv6 address as its IPv4 address.
std::string auth_client_key(std::string_view client);

}  // namespace fedprobe
