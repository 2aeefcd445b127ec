// The one small interface every probe kind implements, and the values it takes and gives: a
// common header plus a per-kind part (a variant over the table in kinds.hpp), as cloudprober's
// `oneof probe` does. Probes know nothing of Prometheus, the engine or the policy: they take a
// request, run on the event loop's thread, and hand back a ProbeResult on that thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/address.hpp"
#include "core/boxed.hpp"
#include "core/duration.hpp"
#include "core/rate_limiter.hpp"
#include "core/socket.hpp"
#include "probes/kinds.hpp"
#include "probes/outcome.hpp"

namespace fedprobe {

// Why a round said nothing about the network: the prober fell behind.
enum class Overload : std::uint8_t {
    late_start,       // it started later than the engine's bound after its slot
    dropped_replies,  // the kernel dropped packets the loop did not read in time (SO_RXQ_OVFL)
    queued,           // it waited for a free place (an in-flight cap) until its timeout
};
inline constexpr std::array kAllOverloads = {Overload::late_start, Overload::dropped_replies,
                                             Overload::queued};
std::string_view to_string(Overload o);

// Names the configured network an address belongs to ("unknown" when none does), so a probe
// can attribute the routers it meets without knowing the config. Immutable: any thread.
class NetworkNamer {
  public:
    virtual ~NetworkNamer() = default;
    virtual const std::string& lookup(const IpAddress& address) const = 0;
};

struct ProbeRequest {
    IpAddress destination;
    std::uint16_t port = 0;  // 0 where the kind has none (icmp)
    Duration timeout{};
    ProbeParams params;  // the kind's own; its alternative names the kind
    // Set by the engine. A probe that sends more than one packet per round reserves a slot for
    // each packet after the first here: the destination network's limit (null: none).
    std::shared_ptr<RateLimiter> pacer;
    // Attributes addresses met on the way (null: leave them unattributed).
    std::shared_ptr<const NetworkNamer> networks;

    // How to send: the target's source address, device and DSCP. Kept boxed, empty for the
    // system's defaults as nearly every target has them: inline it cost each of 100,000 jobs
    // 64 bytes.
    const SendOptions& send() const {
        static const SendOptions defaults;
        return send_ ? *send_ : defaults;
    }
    SendOptions& set_send() {
        if (!send_) send_ = SendOptions{};
        return send_.edit();
    }

    template <typename K>
    const typename K::Params& as() const {
        return *std::get<Boxed<typename K::Params>>(params);
    }
    // The params' box, for a probe that keeps them while its round runs: a copy shares them.
    template <typename K>
    const Boxed<typename K::Params>& params_box() const {
        return std::get<Boxed<typename K::Params>>(params);
    }
    const Boxed<SendOptions>& send_box() const { return send_; }  // empty: the defaults
    template <typename K>
    typename K::Params& params_of() {
        return std::get<Boxed<typename K::Params>>(params).edit();
    }

  private:
    Boxed<SendOptions> send_;
};

struct ProbeResult {
    Outcome outcome = Outcome::error;
    Duration duration{};  // connect time, RTT, or time until the verdict
    std::optional<IpAddress>
        reporter;        // who said so: the target (RST) or the router that sent the ICMP
    std::string detail;  // for logs only, never a label
    // A fact from the wire worth one log line whenever it changes, never a label: the address
    // a STAMP reflector saw this appliance as. Empty: nothing to say.
    std::string notice;
    // Set when the prober fell behind: this round says nothing about the network and is
    // counted as overload instead of as an outcome.
    std::optional<Overload> overload;
    KindResult kind;  // the kind's own; monostate when a failure came before the kind had its say

    template <typename K>
    const typename K::Result* as() const {
        return std::get_if<typename K::Result>(&kind);
    }
};

class Probe {
  public:
    using Done = std::function<void(ProbeResult)>;
    virtual ~Probe() = default;
    // Starts one probe; done runs exactly once, later, on the event loop thread (never inside
    // start).
    virtual void start(const ProbeRequest& request, Done done) = 0;
    // Its running totals outside any job, in the order of its kind's kProbeFamilies (empty for
    // a kind that declares none). Engine thread.
    virtual std::vector<std::uint64_t> totals() const { return {}; }
};

}  // namespace fedprobe
