// PathProbe's sockets, on its Wire: the raw receivers a round reads answers from, the raw
// sockets it sends through, the ports its flows hold, and reading what arrives. The rounds are
// path_probe.cpp.
#include "probes/path/path_probe.hpp"

// net/if.h must precede linux headers that pull in linux/if.h.
#include <net/if.h>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace fedprobe {

Status PathProbe::open_receivers(int family, PathMethod method) {
    const int icmp = family == AF_INET ? int{IPPROTO_ICMP} : int{IPPROTO_ICMPV6};
    const int wanted = method == PathMethod::tcp   ? int{IPPROTO_TCP}
                       : method == PathMethod::udp ? int{IPPROTO_UDP}
                                                   : icmp;
    for (int protocol : {icmp, wanted}) {
        if (std::any_of(receivers_.begin(), receivers_.end(), [&](const Receiver& r) {
                return r.family == family && r.protocol == protocol;
            }))
            continue;
        auto fd = wire_.open_raw_reader(family, protocol);
        if (!fd.ok()) return fd.status();
        receivers_.push_back(Receiver{*fd, family, protocol, 0});
        const std::size_t index = receivers_.size() - 1;
        Status st =
            wire_.watch(*fd, EPOLLIN, [this, index](std::uint32_t) { read(receivers_[index]); });
        if (!st.ok()) return st;
        // IPv6 sends through the same sockets (the kernel writes the IPv6 header).
        if (family == AF_INET6) send_sockets_[{protocol, ""}] = *fd;
    }
    return {};
}

Result<int> PathProbe::send_socket(int family, int protocol, const std::string& device) {
    const int key = family == AF_INET ? -1 : protocol;  // IPv4: one IPPROTO_RAW for all
    if (auto it = send_sockets_.find({key, device}); it != send_sockets_.end()) return it->second;
    auto fd = wire_.open_raw_sender(family, protocol, device);
    if (!fd.ok()) return fd;
    send_sockets_[{key, device}] = *fd;
    return *fd;
}

Result<PathProbe::Memory*> PathProbe::memory_for(const PathFlow& flow, int index) {
    const int protocol = flow.protocol();
    auto key = std::make_tuple(protocol, flow.destination.bytes, flow.port, index);
    auto [it, fresh] = memory_.try_emplace(key);
    Memory& m = it->second;
    if (fresh) {
        if (flow.method == PathMethod::icmp) {
            // An identifier of the flow's own; the generation in each sequence number tells
            // this flow's rounds apart, the destination tells flows apart.
            m.ident = static_cast<std::uint16_t>(
                FlowKeyHash{}(FlowKey{protocol, flow.destination, 0, flow.port}) +
                static_cast<std::size_t>(index) * 0x3b1);
        } else {
            auto held = wire_.hold_port(flow.destination.family,
                                        flow.method == PathMethod::tcp ? SOCK_STREAM : SOCK_DGRAM);
            if (!held.ok()) {
                memory_.erase(it);
                return held.status();
            }
            m.fd = held->first;
            m.ident = held->second;
        }
    }
    m.last_used = wire_.now();
    return &m;
}

int PathProbe::transmit(const Round& r, const PathFlow& flow, std::span<const std::uint8_t> packet,
                        int ttl) {
    if (flow.destination.family == AF_INET)  // TTL, TOS and source are in our own header
        return wire_.send_to(r.send_fd, flow.destination, packet);
    PacketOptions o;
    o.ttl = ttl;
    o.tos = r.request.send().dscp >= 0 ? r.request.send().dscp << 2 : -1;
    o.source = flow.source;  // the one the checksum was computed with
    o.ifindex = r.ifindex;
    return wire_.send_packet(r.send_fd, flow.destination, 0, packet, o);
}

void PathProbe::drain() {
    for (auto& rx : receivers_)
        read(rx);
}

void PathProbe::read(Receiver& rx) {
    for (;;) {
        const std::size_t n = wire_.receive_batch(rx.fd, receiver_);
        if (n == 0) return;
        if (receiver_.drops() != rx.drops_seen) {
            drops_total_ += receiver_.drops() - rx.drops_seen;
            rx.drops_seen = receiver_.drops();
        }
        for (std::size_t i = 0; i < n; ++i) {
            const auto& p = receiver_.packet(i);
            std::optional<PathReply> reply;
            if (rx.family == AF_INET)
                reply = parse_path_reply4(p.data);
            else if (p.from)
                reply = parse_path_reply6(p.data, rx.protocol, *p.from, p.hop_limit);
            if (reply) handle(rx, *reply, p.rx_ns);
        }
        if (n < PacketReceiver::kBatch) return;
    }
}

}  // namespace fedprobe
