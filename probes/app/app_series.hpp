// The series every application kind shares: how far away the device was that reset the last
// probe's data (all of them), and the TLS facts of the last handshake (those that speak TLS).
// A kind's families are its own first, then these (with_app_families), one family each across
// all kinds (the exporter joins families by name). The TLS facts are from the last handshake
// that got that far, as http's are, so an unreachable server keeps showing when its
// certificate expires. record() on the probing thread, render() on a scrape thread: locked.
#pragma once

#include <array>
#include <mutex>

#include "probes/app/dialogue.hpp"
#include "probes/series.hpp"
#include "probes/tls_families.hpp"

namespace fedprobe {

inline constexpr FamilyInfo kAppResetHopsFamily{
    "fedprobe_app_reset_hops",
    "Hops to the device that reset the last probe's data after the TCP handshake, nearer than "
    "the server (-1: none did)",
    SeriesType::gauge};

// In this order after a kind's own families: TLS version, verified, not after, reset hops.
inline constexpr std::array kAppTlsFamilies = {kTlsVersionFamily, kTlsCertVerifiedFamily,
                                               kTlsCertNotAfterFamily, kAppResetHopsFamily};
inline constexpr std::array kAppPlainFamilies = {kAppResetHopsFamily};

template <std::size_t N, std::size_t M>
constexpr std::array<FamilyInfo, N + M> with_app_families(const std::array<FamilyInfo, N>& own,
                                                          const std::array<FamilyInfo, M>& app) {
    std::array<FamilyInfo, N + M> out{};
    for (std::size_t i = 0; i < N; ++i)
        out[i] = own[i];
    for (std::size_t i = 0; i < M; ++i)
        out[N + i] = app[i];
    return out;
}

class AppFactsSeries {
  public:
    void record(const AppFacts& f) {
        std::lock_guard lock(mu_);
        reset_hops_ = f.reset_hops;
        if (f.tls.used) tls_ = f.tls;
    }
    // Family `i` of kAppTlsFamilies; a kind without TLS renders only the last (reset hops).
    void render(std::size_t i, SeriesWriter& out) const {
        std::lock_guard lock(mu_);
        switch (i) {
            case 0:
                if (tls_.used) out.value({{"version", tls_.version}}, 1);
                return;
            case 1:
                if (tls_.verified) out.value({}, *tls_.verified ? 1 : 0);
                return;
            case 2:
                if (!tls_.leaf_not_after) return;
                out.value({{"cert", "leaf"}}, *tls_.leaf_not_after);
                out.value({{"cert", "earliest"}},
                          tls_.chain_not_after.value_or(*tls_.leaf_not_after));
                return;
            default:
                out.value({}, reset_hops_);
        }
    }

  private:
    mutable std::mutex mu_;
    TlsFacts tls_;
    int reset_hops_ = -1;
};

}  // namespace fedprobe
