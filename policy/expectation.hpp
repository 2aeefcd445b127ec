// What a probe job's result should be, by the config, so that surfaces count only what differs
// from it: a service the policy denies that is stopped, or a server kept broken on purpose
// (`expect` on the target), is not a failure. Pure functions of a Job; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/jobs.hpp"
#include "probes/outcome.hpp"

namespace fedprobe {

struct ExpectedResult {
    enum class Kind : std::uint8_t {
        success,  // the default: the probe should succeed
        failure,  // any failure (`expect = "fail"`)
        outcome,  // exactly `outcome` (`expect = "tls_error"`)
        denied,   // the policy denies the service: stopped by a firewall, as its flow is judged
        any,      // no expectation: a trace through a border that drops ICMP by declaration
    };
    Kind kind = Kind::success;
    Outcome outcome = Outcome::ok;

    // Whether a probe that ended in `o` did what is expected of it.
    bool met_by(Outcome o) const;
    // Its word for labels and pages: "ok", "fail", "deny", "any" or the outcome's name.
    std::string_view word() const;
    friend bool operator==(const ExpectedResult&, const ExpectedResult&) = default;
};

// The target's own `expect` first, then the policy's deny flow over the job's service, else
// success. A flow job's expectation is its flow's (allow: success; deny: denied).
ExpectedResult expected_result(const Job& job);
// Why, for a label: "flow:ID" when the policy says so, "target" when the target does, "" for
// the default.
std::string expected_because(const Job& job);

}  // namespace fedprobe
