#include "probes/stamp/stamp_reflector.hpp"

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "probes/stamp/stamp_steering.hpp"

namespace fedprobe {

namespace {

constexpr auto kSessionIdle = std::chrono::minutes(10);  // a session unheard this long is new
constexpr unsigned kMostPerWake = 4;                     // batches read per wake-up

std::string address_key(const IpAddress& a) {
    return std::string(reinterpret_cast<const char*>(a.bytes.data()), a.bits() / 8);
}

}  // namespace

std::string_view to_string(StampReflected r) {
    switch (r) {
        case StampReflected::reflected:
            return "reflected";
        case StampReflected::refused_source:
            return "refused_source";
        case StampReflected::malformed:
            return "malformed";
        case StampReflected::auth_failed:
            return "auth_failed";
        case StampReflected::rate_limited:
            return "rate_limited";
        case StampReflected::dropped:
            return "dropped";
    }
    return "malformed";
}

StampReflector::StampReflector(EventLoop& loop, StampReflectorSettings settings,
                               std::shared_ptr<StampReflectorCounts> counts)
    : loop_(loop),
      settings_(std::move(settings)),
      counts_(counts ? std::move(counts) : std::make_shared<StampReflectorCounts>()) {}

StampReflector::~StampReflector() {
    close_all();
}

void StampReflector::close_all() {
    for (const Socket& s : sockets_) {
        loop_.remove_fd(s.fd);
        close(s.fd);
    }
    sockets_.clear();
}

Result<StampReflector::Socket> StampReflector::open_socket(const Endpoint& ep, bool shared) {
    const int family = ep.address.family;
    const int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
    if (fd < 0) return Status::from_errno("stamp reflector: socket", errno);
    int on = 1;
    if (family == AF_INET6) setsockopt(fd, SOL_IPV6, IPV6_V6ONLY, &on, sizeof on);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    Status st;
    if (shared && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0)
        st = Status::from_errno("stamp reflector: SO_REUSEPORT", errno);
    if (st.ok()) st = enable_rx_packet_info(fd, family);
    if (st.ok()) st = enable_rx_timestamps(fd);
    if (st.ok()) st = enable_rx_overflow_count(fd);
    sockaddr_storage ss;
    const socklen_t len = ep.address.to_sockaddr(ep.port, ss);
    if (st.ok() && bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0)
        st = errno == EACCES ? Status::error("stamp reflector: bind " + ep.str() +
                                             ": permission denied (a port below 1024 needs "
                                             "CAP_NET_BIND_SERVICE)")
                             : Status::from_errno("stamp reflector: bind " + ep.str(), errno);
    if (!st.ok()) {
        close(fd);
        return st;
    }
    grow_receive_buffer(fd, 1 << 20);
    Endpoint local = ep;
    socklen_t got = sizeof ss;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &got) == 0)
        if (auto bound = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss)))
            local.port = bound->port;  // the port the kernel chose for :0
    return Socket{fd, local, 0, false};
}

Status StampReflector::start() {
    for (const Endpoint& ep : settings_.listen) {
        const auto program = stamp_steering_program(ep.address.family, settings_.priority);
        auto general = open_socket(ep, !program.empty());
        if (!general.ok()) {
            close_all();
            return general.status();
        }
        sockets_.push_back(*general);
        if (program.empty()) continue;
        // The federation's senders' queue joins the group second (index 1, the program's 1),
        // on the port the first got.
        auto own = open_socket(general->local, true);
        if (!own.ok()) {
            close_all();
            return own.status();
        }
        own->priority = true;
        sockets_.push_back(*own);
        if (Status st = attach_stamp_steering(general->fd, program); !st.ok()) {
            close_all();
            return st;
        }
    }
    for (std::size_t i = 0; i < sockets_.size(); ++i) {
        Status st = loop_.add_fd(sockets_[i].fd, EPOLLIN,
                                 [this, i](std::uint32_t) { on_readable(sockets_[i]); });
        if (!st.ok()) {
            close_all();
            return st;
        }
    }
    return {};
}

std::vector<Endpoint> StampReflector::bound() const {
    std::vector<Endpoint> out;
    for (const Socket& s : sockets_)
        if (!s.priority) out.push_back(s.local);
    return out;
}

bool StampReflector::allowed(const IpAddress& a) const {
    return std::any_of(settings_.allow.begin(), settings_.allow.end(),
                       [&](const Prefix& p) { return p.contains(a); });
}

bool StampReflector::take_token(const IpAddress& a, TimePoint now) {
    const double burst = std::max(10.0, settings_.rate_limit / 5);
    bool fresh = false;
    Bucket& b = buckets_.touch(address_key(a), now, settings_.max_sessions, fresh).value;
    if (fresh) {
        b = Bucket{burst, now};
    } else {
        b.tokens = std::min(burst, b.tokens + std::chrono::duration<double>(now - b.last).count() *
                                                  settings_.rate_limit);
        b.last = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
}

void StampReflector::sweep(TimePoint now) {
    // A few at a time: a packet after a quiet spell must not pay for a million idle entries.
    constexpr std::size_t kDropsPerPacket = 16;
    sessions_.expire_before(now - kSessionIdle, kDropsPerPacket);
    // A bucket unused long enough to be full again says nothing a fresh one would not: the
    // sources a stateless reflector hears are forgotten as surely as a stateful one's sessions.
    const auto full_again =
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
            std::max(10.0, settings_.rate_limit / 5) / settings_.rate_limit + 1));
    buckets_.expire_before(now - full_again, kDropsPerPacket);
}

std::optional<StampReply> StampReflector::reflect(const StampArrival& in, TimePoint now) {
    if (!allowed(in.from)) {
        count(StampReflected::refused_source);
        return std::nullopt;
    }
    sweep(now);
    if (!take_token(in.from, now)) {
        count(StampReflected::rate_limited);
        return std::nullopt;
    }
    const StampKey* key = settings_.key ? &*settings_.key : nullptr;
    StampSenderPacket req;
    const StampParse parsed = decode(in.data, key, req);
    if (parsed != StampParse::ok) {
        // An unauthenticated packet sent to an authenticated reflector is a wrong key too.
        const bool auth = parsed == StampParse::auth_failed ||
                          (key && parsed == StampParse::too_short && in.data.size() >= kStampBase);
        count(auth ? StampReflected::auth_failed : StampReflected::malformed);
        return std::nullopt;
    }
    const ErrorEstimate sender_ee = ErrorEstimate::unpack(req.error_estimate);

    StampReflectorPacket reply;
    if (settings_.stateful) {
        std::string sk = address_key(in.from);
        sk.push_back(static_cast<char>(in.from_port >> 8));
        sk.push_back(static_cast<char>(in.from_port & 0xff));
        sk.push_back(static_cast<char>(req.ssid >> 8));
        sk.push_back(static_cast<char>(req.ssid & 0xff));
        // A full table gives the new session the place of the one heard from least recently.
        bool fresh = false;
        Session& s = sessions_.touch(sk, now, settings_.max_sessions, fresh).value;
        // Expiry is a few entries a packet, so an idle session may still be in the table.
        if (s.last_seen != TimePoint{} && now - s.last_seen > kSessionIdle) s.next = 0;
        s.last_seen = now;
        reply.seq = s.next++;
    } else {
        reply.seq = req.seq;
    }
    reply.ssid = req.ssid;
    reply.receive_timestamp = stamp_timestamp(in.rx_ns ? in.rx_ns : realtime_ns(), sender_ee.ptp);
    reply.sender_seq = req.seq;
    reply.sender_timestamp = req.timestamp;
    reply.sender_error_estimate = req.error_estimate;
    reply.sender_ttl = static_cast<std::uint8_t>(std::clamp(in.ttl, 0, 255));

    int reply_tos = -1;
    reply.tlvs = std::move(req.tlvs);
    for (StampTlv& t : reply.tlvs) {
        switch (static_cast<StampTlvType>(t.type)) {
            case StampTlvType::extra_padding:
                break;
            case StampTlvType::location:
                if (!fill_location_tlv(t, StampLocation{in.to_port, in.from_port, in.from, in.to}))
                    t.flags |= kTlvMalformed;
                break;
            case StampTlvType::class_of_service:
                if (auto cos = read_cos_tlv(t); cos && t.value.size() == 4) {
                    cos->dscp2 = static_cast<std::uint8_t>(in.tos >> 2);
                    cos->ecn = static_cast<std::uint8_t>(in.tos & 3);
                    cos->rp = 0;
                    reply_tos = cos->dscp1 << 2;  // the reply carries the DSCP asked for
                    t.value = make_cos_tlv(*cos).value;
                } else {
                    t.flags |= kTlvMalformed;
                }
                break;
            default:
                t.flags |= kTlvUnrecognised;
                break;
        }
    }
    // The timestamp of sending, as late as it can be taken here.
    const ErrorEstimate mine = local_error_estimate(sender_ee.ptp);
    reply.error_estimate = mine.pack();
    reply.timestamp = stamp_timestamp(realtime_ns(), sender_ee.ptp);
    StampReply out{encode(reply, key), reply_tos};
    if (out.bytes.size() > in.data.size()) {  // never more than was received
        count(StampReflected::malformed);
        return std::nullopt;
    }
    count(StampReflected::reflected);
    return out;
}

void StampReflector::on_readable(Socket& s) {
    for (unsigned round = 0; round < kMostPerWake; ++round) {
        const std::size_t n = receiver_.receive(s.fd);
        if (n == 0) return;
        if (auto total = receiver_.batch_drops()) {            // the kernel's, for this socket
            const std::uint32_t more = *total - s.drops_seen;  // wraps as the kernel's does
            s.drops_seen = *total;
            counts_->packets[static_cast<std::size_t>(StampReflected::dropped)].fetch_add(
                more, std::memory_order_relaxed);
        }
        const TimePoint now = loop_.now();
        for (std::size_t i = 0; i < n; ++i) {
            const auto& p = receiver_.packet(i);
            if (!p.from) continue;
            if (p.truncated) {
                count(StampReflected::malformed);
                continue;
            }
            StampArrival in{p.data,
                            *p.from,
                            p.from_port,
                            p.to.value_or(s.local.address),
                            s.local.port,
                            std::max(p.tos, 0),
                            std::max(p.ttl, 0),
                            p.rx_ns};
            auto reply = reflect(in, now);
            if (!reply) continue;
            PacketOptions o;
            o.tos = reply->tos;
            if (p.to) o.source = *p.to;  // answer from the address that was asked
            // A reply that cannot leave (no route back, a full queue) is the sender's loss to
            // measure: counting it as backward loss is exactly right.
            (void)send_packet(s.fd, *p.from, p.from_port, reply->bytes, o);
        }
        if (n < PacketReceiver::kBatch) return;
    }
}

}  // namespace fedprobe
