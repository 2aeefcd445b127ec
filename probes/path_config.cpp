// [targets.path]
#include "config/toml_reader.hpp"
#include "probes/path_kind.hpp"

namespace fedprobe {

std::string_view to_string(PathMethod m) {
    switch (m) {
        case PathMethod::udp:
            return "udp";
        case PathMethod::icmp:
            return "icmp";
        case PathMethod::tcp:
            return "tcp";
    }
    return "?";
}

std::string_view to_string(PathStop s) {
    switch (s) {
        case PathStop::reached:
            return "reached";
        case PathStop::unreachable:
            return "unreachable";
        case PathStop::prohibited:
            return "prohibited";
        case PathStop::silent:
            return "silent";
        case PathStop::loop:
            return "loop";
        case PathStop::max_ttl:
            return "max_ttl";
    }
    return "?";
}

PathOptions PathKind::parse(OptionReader& r, const KindUse&) {
    r.check_keys({"method", "max_ttl", "attempts", "gap_limit", "flows", "interval",
                  "router_spacing", "port"});
    PathOptions o;
    if (auto m = r.string("method")) {
        if (*m == "udp")
            o.method = PathMethod::udp;
        else if (*m == "icmp")
            o.method = PathMethod::icmp;
        else if (*m == "tcp")
            o.method = PathMethod::tcp;
        else
            r.error("method", r.where() + ": method '" + *m + "' is not one of udp, icmp, tcp");
    }
    if (auto v = r.integer("max_ttl", 1, 64)) o.max_ttl = static_cast<int>(*v);
    // The probe number carries the attempt in two bits (path_packet.hpp).
    if (auto v = r.integer("attempts", 1, 4)) o.attempts = static_cast<int>(*v);
    if (auto v = r.integer("gap_limit", 1, 64)) o.gap_limit = static_cast<int>(*v);
    if (auto v = r.integer("flows", 1, 16)) o.flows = static_cast<int>(*v);
    if (auto v = r.duration("interval")) o.interval = *v;
    if (auto v = r.duration("router_spacing")) o.router_spacing = *v;
    if (auto v = r.integer("port", 1, 65535)) o.port = static_cast<int>(*v);
    return o;
}

std::string PathKind::check(const KindUse&, const PathOptions* o) {
    if (o && o->port && o->method == PathMethod::icmp)
        return "path.port has no meaning with method \"icmp\"";
    return {};
}

PathParams PathKind::params(const PathOptions* o, JobContext& c) {
    PathOptions options = o ? *o : PathOptions{};
    PathParams p;
    p.max_ttl = options.max_ttl;
    p.attempts = options.attempts;
    p.gap_limit = options.gap_limit;
    p.flows = options.flows;
    p.router_spacing = options.router_spacing;
    if (c.service) {
        // path:SERVICE: the application's own transport and port, through the firewalls that
        // let that port in.
        p.method = c.service->transport == Transport::tcp ? PathMethod::tcp : PathMethod::udp;
    } else {
        p.method = options.method.value_or(PathMethod::udp);
        // 33434 is traceroute's port: a firewall admin recognises it in a log. TCP goes to 80.
        if (p.method == PathMethod::udp)
            c.port = static_cast<std::uint16_t>(options.port.value_or(33434));
        if (p.method == PathMethod::tcp)
            c.port = static_cast<std::uint16_t>(options.port.value_or(80));
        if (p.method == PathMethod::icmp) c.port = 0;
    }
    c.interval = options.interval.value_or(std::chrono::seconds(60));
    return p;
}

}  // namespace fedprobe
