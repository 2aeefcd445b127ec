// The TLS facts of an application check's last handshake, kept for its series: the version,
// whether the certificate verified and when it expires. Like http's, they are from the last
// handshake that got that far, so an unreachable server keeps showing when its certificate
// expires. record() on the probing thread, render() on a scrape thread: locked.
#pragma once

#include <mutex>

#include "probes/app/dialogue.hpp"
#include "probes/series.hpp"

namespace fedprobe {

class TlsSeries {
  public:
    void record(const TlsFacts& f) {
        if (!f.used) return;
        std::lock_guard lock(mu_);
        last_ = f;
    }
    void version(SeriesWriter& out) const {
        std::lock_guard lock(mu_);
        if (last_.used) out.value({{"version", last_.version}}, 1);
    }
    void verified(SeriesWriter& out) const {
        std::lock_guard lock(mu_);
        if (last_.verified) out.value({}, *last_.verified ? 1 : 0);
    }
    void not_after(SeriesWriter& out) const {
        std::lock_guard lock(mu_);
        if (!last_.leaf_not_after) return;
        out.value({{"cert", "leaf"}}, *last_.leaf_not_after);
        out.value({{"cert", "earliest"}}, last_.chain_not_after.value_or(*last_.leaf_not_after));
    }

  private:
    mutable std::mutex mu_;
    TlsFacts last_;
};

}  // namespace fedprobe
