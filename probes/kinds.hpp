// THE table of probe kinds. Adding a kind: its own files (KIND_kind.hpp declaring it, its
// parser, probe and series) and one line in `Kinds` below. Everything else — the config's
// option tables, `probes = [...]` validation, the request and result variants, the probes the
// engine starts, the series the exporter renders, doc/configuration.md's list — follows from here,
// and a kind that lacks a member fails ProbeKind at compile time. Declarations only: any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "core/boxed.hpp"

#include "probes/dicom/dicom_kind.hpp"
#include "probes/dns/dns_kind.hpp"
#include "probes/http/http_kind.hpp"
#include "probes/icmp/icmp_kind.hpp"
#include "probes/idle/idle_kind.hpp"
#include "probes/ldap/ldap_kind.hpp"
#include "probes/mllp/mllp_kind.hpp"
#include "probes/path/path_kind.hpp"
#include "probes/smtp/smtp_kind.hpp"
#include "probes/stamp/stamp_kind.hpp"
#include "probes/tcp/tcp_kind.hpp"
#include "probes/tls/tls_kind.hpp"
#include "probes/udp/udp_kind.hpp"

namespace fedprobe {

template <ProbeKind... K>
struct KindList {
    static constexpr std::size_t size = sizeof...(K);
    // Boxed: a job costs the size of its own kind's params, not of the largest kind's.
    using Params = std::variant<Boxed<typename K::Params>...>;
    // monostate: a result no kind has filled in (a failure before the kind had its say).
    using Results = std::variant<std::monostate, typename K::Result...>;
    // Boxed and empty unless the target has the kind's table: most targets set none.
    using Options = std::tuple<Boxed<typename K::Options>...>;
    // Where equal option tables and params are made to share one box (see BoxPool).
    using OptionPools = std::tuple<BoxPool<typename K::Options>...>;
    using ParamPools = std::tuple<BoxPool<typename K::Params>...>;
    using Tuple = std::tuple<K...>;
    static constexpr std::array<std::string_view, size> names = {K::kName...};
};

// ---- the table --------------------------------------------------------------------------
// One line per kind, so that adding one is adding a line.
// clang-format off
using Kinds = KindList<
    IcmpKind,
    TcpKind,
    UdpKind,
    DnsKind,
    HttpKind,
    PathKind,
    IdleKind,
    StampKind,
    MllpKind,
    DicomKind,
    TlsKind,
    SmtpKind,
    LdapKind>;
// clang-format on
// -----------------------------------------------------------------------------------------

inline constexpr std::size_t kKindCount = Kinds::size;
using ProbeParams = Kinds::Params;   // the per-kind part of a request
using KindResult = Kinds::Results;   // the per-kind part of a result
using KindOptions = Kinds::Options;  // a target's option tables, one optional per kind

template <std::size_t I>
using KindAt = std::tuple_element_t<I, Kinds::Tuple>;

// The index of kind K in the table.
template <typename K>
constexpr std::size_t kind_index_of() {
    return []<std::size_t... I>(std::index_sequence<I...>) {
        std::size_t out = kKindCount;
        ((std::is_same_v<K, KindAt<I>> ? (out = I) : 0), ...);
        return out;
    }
    (std::make_index_sequence<kKindCount>{});
}

// Names are unique: `probes = ["NAME"]` must name exactly one kind.
static_assert(
    [] {
        for (std::size_t i = 0; i < kKindCount; ++i)
            for (std::size_t j = i + 1; j < kKindCount; ++j)
                if (Kinds::names[i] == Kinds::names[j]) return false;
        return true;
    }(),
    "two probe kinds share a name");

inline std::optional<std::size_t> kind_index(std::string_view name) {
    for (std::size_t i = 0; i < kKindCount; ++i)
        if (Kinds::names[i] == name) return i;
    return std::nullopt;
}
inline std::string_view kind_name(std::size_t index) {
    return Kinds::names[index];
}
// "icmp, tcp, udp, dns, http": for messages.
std::string kind_names();

// Calls f.template operator()<K>() for the kind at a runtime index (< kKindCount); every kind
// must be handled, and each returns the same type.
template <typename F>
decltype(auto) visit_kind(std::size_t index, F&& f) {
    using G = std::remove_reference_t<F>;
    using R = decltype(f.template operator()<KindAt<0>>());
    return [&]<std::size_t... I>(std::index_sequence<I...>)->R {
        using Fn = R (*)(G&);
        static constexpr Fn table[] = {
            [](G& g) -> R { return g.template operator()<KindAt<I>>(); }...};
        return table[index](f);
    }
    (std::make_index_sequence<kKindCount>{});
}

// Calls f.template operator()<K>() for every kind, in table order.
template <typename F>
constexpr void for_each_kind(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (f.template operator()<KindAt<I>>(), ...);
    }
    (std::make_index_sequence<kKindCount>{});
}

}  // namespace fedprobe
