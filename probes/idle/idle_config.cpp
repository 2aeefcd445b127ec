// [targets.idle]
#include "config/toml_reader.hpp"
#include "probes/idle/idle_kind.hpp"

namespace fedprobe {

std::string_view to_string(IdleCut c) {
    switch (c) {
        case IdleCut::silence:
            return "silence";
        case IdleCut::reset:
            return "reset";
        case IdleCut::server_closed:
            return "server_closed";
    }
    return "silence";
}

IdleOptions IdleKind::parse(OptionReader& r, const KindUse&) {
    r.check_keys({"min", "max", "interval", "required", "sessions"});
    IdleOptions o;
    // The keepalive's idle time is set in whole seconds, and a day is longer than any stateful
    // device keeps an idle session.
    auto seconds_ = [&](std::string_view key, Duration lo, Duration hi,
                        std::string_view range) -> std::optional<Duration> {
        auto d = r.duration(key);
        if (!d) return std::nullopt;
        if (*d < lo || *d > hi || *d % std::chrono::seconds(1) != Duration::zero()) {
            r.error(key, r.where() + ": " + std::string(key) + " must be whole seconds, " +
                             std::string(range) + ", not " + format_duration(*d));
            return std::nullopt;
        }
        return d;
    };
    using std::chrono::hours, std::chrono::minutes, std::chrono::seconds;
    if (auto d = seconds_("min", seconds(1), hours(24), "1s to 24h")) o.min = *d;
    if (auto d = seconds_("max", seconds(2), hours(24), "2s to 24h")) o.max = *d;
    if (o.min >= o.max)
        r.error(r.table().get("max") ? "max" : "min",
                r.where() + ": min (" + format_duration(o.min) + ") must be below max (" +
                    format_duration(o.max) + ")");
    if (auto d = seconds_("interval", minutes(1), hours(24 * 7), "1m to 7 days")) o.interval = *d;
    if (auto d = seconds_("required", seconds(1), hours(24), "1s to 24h")) o.required = *d;
    if (auto n = r.integer("sessions", 1, 16)) o.sessions = static_cast<int>(*n);
    return o;
}

}  // namespace fedprobe
