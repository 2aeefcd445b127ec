// Compiled by kind_incomplete.sh: a kind that declares everything (must compile) and, with
// -DDROP=member, one that lacks that member (must not: ProbeKind rejects it).
#include "probes/probe.hpp"

namespace fedprobe {

struct TestKind {
#if DROP != 1
    static constexpr std::string_view kName = "test";
#endif
    static constexpr ServiceUse kServices = ServiceUse::none;
    static constexpr std::array<Transport, 0> kTransports{};
    static constexpr std::array kOutcomes = {Outcome::ok};
    static constexpr bool kCommonDuration = true;
#if DROP != 5
    static constexpr SocketUse kSockets{};
#endif
#if DROP != 6
    static constexpr IcmpUse kIcmp = IcmpUse::none;
#endif
#if DROP != 7
    static constexpr bool kChecksServices = false;
#endif
#if DROP != 8
    static constexpr std::array<FamilyInfo, 0> kProbeFamilies{};
#endif
    static constexpr std::array<FamilyInfo, 0> kFamilies{};
    struct Options {
        friend bool operator==(const Options&, const Options&) = default;
    };
    using Params = Options;
    struct Result {};
#if DROP != 2
    static Options parse(OptionReader&, const KindUse&) {
        return {};
    }
#endif
    static std::string check(const KindUse&, const Options*) {
        return {};
    }
    static Params params(const Options*, JobContext&) {
        return {};
    }
#if DROP != 3
    static std::unique_ptr<Probe> make_probe(EventLoop&) {
        return nullptr;
    }
#endif
#if DROP != 4
    static std::unique_ptr<KindSeries> make_series() {
        return nullptr;
    }
#endif
};

// What the table does with each entry.
using Table = KindList<IcmpKind, TestKind>;
static_assert(Table::size == 2);

}  // namespace fedprobe
