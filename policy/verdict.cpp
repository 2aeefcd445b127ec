#include "policy/verdict.hpp"

namespace fedprobe {

Verdict judge(Expectation expect, Outcome outcome) {
    if (expect == Expectation::allow) {
        switch (outcome) {
            case Outcome::ok:
                return Verdict::compliant;
            case Outcome::refused:
                return Verdict::service_down;
            case Outcome::filtered:
            case Outcome::prohibited:
            case Outcome::unreachable:
            case Outcome::app_blocked:  // the handshake passed; the data did not
                return Verdict::blocked;
            // An application check's peer answered and refused (an HL7 AR, a DICOM
            // A-ASSOCIATE-RJ): the path is open, the service will not serve this partner.
            case Outcome::mismatch:
                return Verdict::service_down;
            case Outcome::error:
            case Outcome::tls_error:
                return Verdict::error;
        }
    }
    switch (outcome) {
        case Outcome::filtered:
        case Outcome::prohibited:
        case Outcome::app_blocked:  // the application's data is stopped: what deny asks
            return Verdict::compliant;
        case Outcome::ok:
            return Verdict::violation;
        case Outcome::refused:
        case Outcome::mismatch:  // the application answered: the way is open
            return Verdict::open_path;
        case Outcome::unreachable:
        case Outcome::error:
        case Outcome::tls_error:
            return Verdict::not_verified;
    }
    return Verdict::error;
}

std::string_view to_string(Verdict v) {
    switch (v) {
        case Verdict::compliant:
            return "compliant";
        case Verdict::violation:
            return "violation";
        case Verdict::blocked:
            return "blocked";
        case Verdict::service_down:
            return "service_down";
        case Verdict::open_path:
            return "open_path";
        case Verdict::not_verified:
            return "not_verified";
        case Verdict::error:
            return "error";
    }
    return "error";
}

std::string_view to_string(Expectation e) {
    return e == Expectation::allow ? "allow" : "deny";
}

}  // namespace fedprobe
