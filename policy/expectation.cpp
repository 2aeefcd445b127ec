#include "policy/expectation.hpp"

#include <optional>

#include "policy/verdict.hpp"
#include "probes/kinds.hpp"

namespace fedprobe {

bool ExpectedResult::met_by(Outcome o) const {
    switch (kind) {
        case Kind::success:
            return o == Outcome::ok;
        case Kind::failure:
            return o != Outcome::ok;
        case Kind::outcome:
            return o == outcome;
        case Kind::denied:
            return is_compliant(judge(Expectation::deny, o));
        case Kind::any:
            return true;
    }
    return false;
}

std::string_view ExpectedResult::word() const {
    switch (kind) {
        case Kind::success:
            return "ok";
        case Kind::failure:
            return "fail";
        case Kind::outcome:
            return to_string(outcome);
        case Kind::denied:
            return "deny";
        case Kind::any:
            return "any";
    }
    return "ok";
}

namespace {

// What a border that drops ICMP by declaration makes of the job: an echo into or out of that
// network fails; a trace that crosses it is told nothing by the routers behind it, and reaches
// or not as the border's exceptions go (an appliance's address may be let through), so nothing
// is expected of it; nothing else needs ICMP.
std::optional<ExpectedResult::Kind> blocked_icmp(const Job& job) {
    if (!job.spec || !(job.icmp_blocked_at_site || job.icmp_blocked_at_target)) return {};
    switch (visit_kind(job.spec->kind, []<typename K>() { return IcmpUse(K::kIcmp); })) {
        case IcmpUse::echo:
            return ExpectedResult::Kind::failure;
        case IcmpUse::trace:
            return ExpectedResult::Kind::any;
        case IcmpUse::none:
            break;
    }
    return {};
}

}  // namespace

ExpectedResult expected_result(const Job& job) {
    ExpectedResult out;
    if (job.flow) {
        if (job.flow->expect == Expectation::deny) out.kind = ExpectedResult::Kind::denied;
        return out;
    }
    static const std::string none;
    const std::string& expect = job.target && job.spec ? job.target->expect(job.spec->str()) : none;
    if (expect == "fail") {
        out.kind = ExpectedResult::Kind::failure;
    } else if (auto o = outcome_from_name(expect)) {  // the loader let only names through
        out.kind = ExpectedResult::Kind::outcome;
        out.outcome = *o;
    } else if (job.denied_by) {
        out.kind = ExpectedResult::Kind::denied;
    } else if (auto kind = blocked_icmp(job)) {
        out.kind = *kind;
    }
    return out;
}

std::string expected_because(const Job& job) {
    if (job.flow) return "";
    if (job.target && job.spec && !job.target->expect(job.spec->str()).empty()) return "target";
    if (job.denied_by) return "flow:" + job.denied_by->id;
    if (blocked_icmp(job)) return "icmp_blocked";
    return "";
}

}  // namespace fedprobe
