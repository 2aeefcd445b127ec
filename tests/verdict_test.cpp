#include <doctest/doctest.h>

#include "policy/verdict.hpp"

using namespace fedprobe;

TEST_CASE("the verdict for every (expectation, outcome) pair") {
    struct Row {
        Expectation e;
        Outcome o;
        Verdict v;
    };
    const Row table[] = {
        {Expectation::allow, Outcome::ok, Verdict::compliant},
        {Expectation::allow, Outcome::refused,
         Verdict::service_down},  // path open, nothing listens
        {Expectation::allow, Outcome::filtered, Verdict::blocked},
        {Expectation::allow, Outcome::prohibited, Verdict::blocked},
        {Expectation::allow, Outcome::unreachable, Verdict::blocked},
        {Expectation::allow, Outcome::error, Verdict::error},
        // application checks: the data stopped after the handshake is a blocked flow; a peer
        // that answered and refused (HL7 AR, DICOM A-ASSOCIATE-RJ) is not a firewall's doing
        {Expectation::allow, Outcome::app_blocked, Verdict::blocked},
        {Expectation::allow, Outcome::mismatch, Verdict::service_down},
        {Expectation::allow, Outcome::tls_error, Verdict::error},
        {Expectation::deny, Outcome::app_blocked, Verdict::compliant},
        {Expectation::deny, Outcome::mismatch, Verdict::open_path},
        {Expectation::deny, Outcome::ok, Verdict::violation},  // the alert that matters most
        {Expectation::deny, Outcome::refused, Verdict::open_path},
        {Expectation::deny, Outcome::filtered, Verdict::compliant},
        {Expectation::deny, Outcome::prohibited, Verdict::compliant},
        {Expectation::deny, Outcome::unreachable, Verdict::not_verified},
        {Expectation::deny, Outcome::error, Verdict::not_verified},
    };
    for (const auto& r : table) {
        CAPTURE(to_string(r.e));
        CAPTURE(to_string(r.o));
        CHECK(judge(r.e, r.o) == r.v);
        CHECK(is_compliant(judge(r.e, r.o)) == (r.v == Verdict::compliant));
    }
}
