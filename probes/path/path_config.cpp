// [targets.path]
#include "config/toml_reader.hpp"
#include "probes/path/path_kind.hpp"

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
                  "router_spacing", "port", "mtu", "mtu_every", "min_mtu", "min_mss"});
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
    if (auto v = r.boolean("mtu")) o.mtu = *v;
    if (auto v = r.integer("mtu_every", 1, 1000)) o.mtu_every = static_cast<int>(*v);
    if (auto v = r.integer("min_mtu", 68, 65535)) o.min_mtu = static_cast<int>(*v);
    if (auto v = r.integer("min_mss", 1, 65535)) o.min_mss = static_cast<int>(*v);
    return o;
}

std::string PathKind::check(const KindUse& use, const PathOptions* o) {
    if (o && o->port && o->method == PathMethod::icmp)
        return "path.port has no meaning with method \"icmp\"";
    if (o && !o->mtu && (o->min_mtu || o->mtu_every != 1))
        return "path.min_mtu and path.mtu_every need path.mtu = true";
    // Only TCP probes carry an MSS for routers to quote: the alert would never fire.
    if (o && o->min_mss && !use.with_service && o->method != PathMethod::tcp)
        return "path.min_mss needs tcp traces (path.method = \"tcp\", or path:SERVICE over "
               "tcp): other probes carry no MSS";
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
    p.mtu = options.mtu;
    p.mtu_every = options.mtu_every;
    p.min_mtu = options.min_mtu.value_or(0);
    p.min_mss = options.min_mss.value_or(0);
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
