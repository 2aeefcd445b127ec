#include "probes/icmp/icmp_probe.hpp"

// net/if.h must precede linux/icmp.h (which pulls in linux/if.h), or their definitions clash.
#include <net/if.h>

#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/socket.hpp"

namespace fedprobe {

std::unique_ptr<Probe> IcmpKind::make_probe(EventLoop& loop) {
    return std::make_unique<IcmpProbe>(loop);
}

IcmpProbe::IcmpProbe(std::unique_ptr<Wire> own, Wire* wire)
    : own_wire_(std::move(own)), wire_(wire ? *wire : *own_wire_) {
    rng_state_ = static_cast<std::uint64_t>(wire_.wall_ns()) ^ (std::uint64_t(getpid()) << 32) ^
                 0x9e3779b97f4a7c15ull;
    matcher_.seed(random32());
    // Before any round's timeout is judged, everything the kernel has received is read.
    drain_id_ = wire_.add_drain([this] {
        flush_all();
        for (auto& rx : receivers_)
            if (rx.fd >= 0) on_readable(rx, 0);
    });
}

IcmpProbe::~IcmpProbe() {
    wire_.remove_drain(drain_id_);
    for (auto& s : sockets_)
        if (s.fd >= 0 && s.fd != s.receiver->fd) wire_.close(s.fd);  // a raw socket's: send only
    for (auto& rx : receivers_) {
        if (rx.fd < 0) continue;
        wire_.unwatch(rx.fd);
        wire_.close(rx.fd);
    }
    for (auto& r : rounds_)
        if (r.active && r.timer) wire_.cancel_timer(r.timer);
    if (timeout_timer_) wire_.cancel_timer(timeout_timer_);
}

void IcmpProbe::arm_timeouts() {
    const auto next = timeouts_.earliest();
    if (!next) return;
    if (timeout_timer_ && timeout_timer_at_ <= *next + kTimeoutCoalesce) return;
    if (timeout_timer_) wire_.cancel_timer(timeout_timer_);
    timeout_timer_at_ = *next + kTimeoutCoalesce;
    timeout_timer_ = wire_.add_timer(timeout_timer_at_, [this] {
        timeout_timer_ = 0;
        on_timeouts();
    });
}

void IcmpProbe::on_timeouts() {
    const TimePoint now = wire_.now();
    while (auto due = timeouts_.pop_due(now)) {
        const Round& r = rounds_[due->id];
        // Ended already (answered, or a send failed), or the slot holds a newer round.
        if (r.active && r.generation == due->generation) finish(due->id);
    }
    arm_timeouts();
}

std::uint32_t
IcmpProbe::random32() {  // xorshift64*: nonces need to be unpredictable-ish, not secret
    rng_state_ ^= rng_state_ >> 12;
    rng_state_ ^= rng_state_ << 25;
    rng_state_ ^= rng_state_ >> 27;
    return static_cast<std::uint32_t>((rng_state_ * 0x2545f4914f6cdd1dull) >> 32);
}

std::string IcmpProbe::socket_kind(int family) const {
    for (const auto& rx : receivers_)
        if (rx.fd >= 0 && rx.family == family) return rx.raw ? "raw" : "ping";
    return "";
}

Status IcmpProbe::open_receiver(Receiver& rx, int fd, int family, bool raw) {
    Status st = wire_.prepare_icmp_reader(fd, family, raw);
    if (!st.ok()) return st;
    st = wire_.watch(fd, EPOLLIN | EPOLLERR, [this, &rx](std::uint32_t ev) {
        if (ev & EPOLLERR) on_error_queue(rx);
        // Bounded, so one busy socket cannot starve the loop; the drain reads the rest
        // before any timeout.
        if (ev & EPOLLIN) on_readable(rx, 64);
    });
    if (!st.ok()) return st;
    rx.fd = fd;
    rx.family = family;
    rx.raw = raw;
    return {};
}

IcmpProbe::Socket* IcmpProbe::socket_for(int family, bool df, std::string& error) {
    const std::size_t base = family == AF_INET6 ? 2 : 0;
    Socket& s = sockets_[base + (df ? 1 : 0)];
    if (s.fd >= 0) return &s;
    bool raw = false;
    auto opened = wire_.open_icmp(family, raw);
    if (!opened.ok()) {
        error = opened.status().message();
        return nullptr;
    }
    const int fd = *opened;
    // One kind for the probe's life: the key's layout (matcher_.set_raw_ids) and the receivers'
    // places depend on it, and only a sysctl changed while running can make the next differ.
    if (raw_sockets_ && *raw_sockets_ != raw) {
        wire_.close(fd);
        error = std::string("ICMP sockets changed from ") + (raw ? "ping to raw" : "raw to ping") +
                " sockets (net.ipv4.ping_group_range changed while fedprobe ran): restart fedprobe";
        return nullptr;
    }
    Receiver& rx = receivers_[raw ? base : base + (df ? 1 : 0)];
    Status st;
    if (!raw) {
        st = open_receiver(rx, fd, family, raw);
    } else {
        st = wire_.block_all_icmp(fd, family);
        if (st.ok() && rx.fd < 0) {  // the first raw socket of this IP version: open its reader
            // Raw like the sender, never a ping socket, which would see none of its replies.
            auto reader = wire_.open_raw_icmp(family);
            st = !reader.ok() ? reader.status() : open_receiver(rx, *reader, family, true);
            if (reader.ok() && !st.ok()) wire_.close(*reader);
        }
    }
    if (st.ok()) st = wire_.set_dont_fragment(fd, family, df);
    if (!st.ok()) {
        error = st.message();
        if (rx.fd == fd) {
            wire_.unwatch(fd);
            rx.fd = -1;
        }
        wire_.close(fd);
        return nullptr;
    }
    s.fd = fd;
    s.receiver = &rx;
    raw_sockets_ = raw;
    matcher_.set_raw_ids(raw);  // ping_group_range covers both IP versions: all sockets alike
    return &s;
}

void IcmpProbe::start(const ProbeRequest& req, Done done) {
    std::string error;
    Socket* sock =
        socket_for(req.destination.family,
                   sends_dont_fragment(req.as<IcmpKind>(), req.destination.family), error);
    unsigned ifindex = 0;
    if (sock && !req.send().device.empty()) {
        ifindex = wire_.interface_index(req.send().device);
        if (ifindex == 0) error = "device '" + req.send().device + "': " + std::strerror(errno);
    }
    if (!sock || !error.empty()) {
        wire_.defer([done = std::move(done), error] {
            ProbeResult r;
            r.outcome = Outcome::error;
            r.detail = error;
            r.kind = IcmpResult{};
            done(std::move(r));
        });
        return;
    }
    std::uint32_t index;
    if (!free_rounds_.empty()) {
        index = free_rounds_.back();
        free_rounds_.pop_back();
    } else {
        index = static_cast<std::uint32_t>(rounds_.size());
        rounds_.emplace_back();
    }
    Round& r = rounds_[index];
    r.active = true;
    r.done = std::move(done);
    r.destination = req.destination;
    r.timeout = req.timeout;
    r.params = req.params_box<IcmpKind>();
    r.send = req.send_box();
    r.ifindex = ifindex;
    r.nonce = random32();
    r.started = wire_.now();
    r.deadline_ns = 0;
    r.timer = 0;
    r.sent = r.resolved = 0;
    r.error.reset();
    r.icmp = IcmpResult{};
    r.socket = sock;
    r.keys.clear();
    send_next(index, r.started);
}

void IcmpProbe::send_next(std::uint32_t index, TimePoint now) {
    Round& r = rounds_[index];
    r.timer = 0;
    const IcmpParams& icmp = r.icmp_params();
    const int family = r.destination.family;

    std::int64_t evicted = -1;
    // Until its batch goes (on_sent() then sets the send time); one clock read serves the
    // deadline too, as clock reads were 4% of the probing thread at 100,000 targets.
    const std::int64_t queued_ns = wire_.wall_ns();
    const std::uint32_t key = matcher_.add(index, r.nonce, queued_ns, &evicted);
    if (evicted >= 0 && rounds_[static_cast<std::size_t>(evicted)].active) {
        // More requests in flight than the ring holds: the evicted one can no longer be matched.
        ++rounds_[static_cast<std::size_t>(evicted)].resolved;
    }
    // Raw sockets write the whole key in id+seq, so (id, seq) never repeats towards a target for
    // 2^32 packets. The part that changes with every packet is the identifier: a stateful
    // firewall keys ICMP sessions on it, and a constant one kept one session alive for every
    // round, so fedprobe went on measuring that session after a route moved where a user's new
    // ping (a new identifier) found none (#32). Ping sockets get their id from the kernel (one
    // per socket) and carry the low 16 bits as the sequence.
    const bool raw = matcher_.raw_ids();
    std::uint16_t id = static_cast<std::uint16_t>(key),
                  seq = static_cast<std::uint16_t>(raw ? key >> 16 : key);
    std::uint8_t packet[65536];
    std::size_t len = build_echo_request(packet, family, id, seq, key, r.nonce,
                                         static_cast<std::size_t>(icmp.payload_bytes));
    // Per-packet TTL, DSCP, source and interface: one shared socket serves targets that differ.
    PacketOptions options;
    options.ttl = icmp.ttl;
    options.tos = r.send && r.send->dscp >= 0 ? r.send->dscp << 2 : -1;
    options.source = r.source();
    options.ifindex = r.ifindex;

    r.keys.push_back(key);
    ++r.sent;
    Socket& s = *r.socket;
    s.sender.add(r.destination, 0, {packet, len}, options, std::uint64_t{index} << 32 | key);

    const int total = icmp.packets;
    const int attempted = static_cast<int>(r.keys.size());
    if (attempted < total) {
        r.timer = wire_.add_timer(r.started + icmp.spacing * attempted,
                                  [this, index] { send_next(index, wire_.now()); });
    } else {
        // A send that fails ends the round in on_sent(), and its timeout is then skipped.
        r.deadline_ns = queued_ns + r.timeout.count();
        // Only a deadline earlier than the timer's (a shorter timeout) moves it: no scan of the
        // queues for every round, which was 0.5% of the probing thread at 100,000 targets.
        const TimePoint due = now + std::chrono::duration_cast<Clock::duration>(r.timeout);
        timeouts_.push(Timeout{due, index, r.generation}, r.timeout);
        if (!timeout_timer_ || due + kTimeoutCoalesce < timeout_timer_at_) arm_timeouts();
    }
    // Last: a full batch goes now, and its reports may end rounds, this one among them.
    if (s.sender.size() >= PacketSender::kBatch) flush(s);
    if (s.sender.size() > 0 && !flush_deferred_) {
        flush_deferred_ = true;
        wire_.defer([this, alive = std::weak_ptr<char>(alive_)] {
            if (alive.expired()) return;
            flush_deferred_ = false;
            flush_all();
        });
    }
}

void IcmpProbe::flush_all() {
    for (auto& s : sockets_)
        if (s.fd >= 0) flush(s);
}

void IcmpProbe::flush(Socket& s) {
    const std::int64_t sent_ns = wire_.wall_ns();
    wire_.flush(s.fd, s.sender, [this, sent_ns](std::uint64_t tag, int err) {
        on_sent(static_cast<std::uint32_t>(tag >> 32), static_cast<std::uint32_t>(tag), err,
                sent_ns);
    });
}

void IcmpProbe::on_sent(std::uint32_t index, std::uint32_t key, int err, std::int64_t sent_ns) {
    if (!err) {
        matcher_.sent_at(key, sent_ns);
        return;
    }
    Round& r = rounds_[index];
    // Its round ended while the request was queued (evicted from a full ring): nothing to do.
    if (!r.active || std::find(r.keys.begin(), r.keys.end(), key) == r.keys.end()) return;
    matcher_.forget(key);
    --r.sent;  // never left this host: not a packet on the wire
    ++r.resolved;
    if (!r.error) {
        Outcome outcome = outcome_from_errno(err);
        if (outcome == Outcome::ok || outcome == Outcome::filtered) outcome = Outcome::error;
        std::string detail = std::string("sendmsg: ") + std::strerror(err);
        // The kernel says "unreachable" or "invalid" for a source it does not own: that is
        // this appliance's misconfiguration, not the network's verdict.
        if (r.source() && !wire_.is_local_address(*r.source())) {
            outcome = Outcome::error;
            detail = "source address " + r.source()->str() + " is not on this host";
        }
        r.set_error(outcome, std::nullopt, std::move(detail));
    }
    const int packets = r.icmp_params().packets;
    if (r.resolved >= packets && static_cast<int>(r.keys.size()) >= packets) finish(index);
}

void IcmpProbe::on_readable(Receiver& rx, unsigned max_batches) {
    for (unsigned batch = 0; max_batches == 0 || batch < max_batches; ++batch) {
        std::size_t n = wire_.receive_batch(rx.fd, packets_in_);
        if (packets_in_.drops() != rx.drops_seen) {
            // The kernel dropped packets on this socket since we last looked: the loop fell
            // behind. Rounds still waiting may have lost their replies here, not on the wire.
            stats_.rx_dropped += packets_in_.drops() - rx.drops_seen;
            rx.drops_seen = packets_in_.drops();
            rx.last_overflow = wire_.now();
        }
        for (std::size_t i = 0; i < n; ++i) {
            const auto& p = packets_in_.packet(i);
            if (!p.from) continue;
            auto m = rx.family == AF_INET ? parse_icmp4(p.data, rx.raw) : parse_icmp6(p.data);
            if (m) handle(rx.family, *m, *p.from, p.rx_ns ? p.rx_ns : wire_.wall_ns());
        }
        if (n < PacketReceiver::kBatch) return;
    }
}

void IcmpProbe::on_error_queue(Receiver& rx) {
    while (auto q = wire_.read_error(rx.fd)) {
        if (!q->from_icmp() || !q->offender) continue;
        auto m = parse_quoted_request(q->quoted, rx.family);
        if (!m) continue;
        m->kind = IcmpMessage::Kind::error;
        m->type = q->type;
        m->code = q->code;
        handle(rx.family, *m, *q->offender,
               wire_.wall_ns());  // the kernel matched it to our socket
    }
}

void IcmpProbe::handle(int family, const IcmpMessage& m, const IpAddress& from,
                       std::int64_t rx_ns) {
    auto found = matcher_.find(m);
    switch (found.verdict) {
        case EchoMatcher::Verdict::foreign:
            return;
        case EchoMatcher::Verdict::unmatched:
            ++stats_.unmatched;
            return;
        case EchoMatcher::Verdict::late:
            ++stats_.late;
            return;  // counted, never mistaken for success
        default:
            break;
    }
    Round& r = rounds_[found.round];
    if (!r.active) {
        ++stats_.late;
        return;
    }
    if (m.kind == IcmpMessage::Kind::echo_reply) {
        if (from != r.destination) {
            ++stats_.unmatched;  // a reply must come from the address we pinged
            return;
        }
        if (found.verdict == EchoMatcher::Verdict::duplicate) {
            ++r.icmp.duplicates;
            ++stats_.duplicates;
            return;
        }
        if (r.deadline_ns && rx_ns > r.deadline_ns) {
            ++stats_.late;  // the kernel got it after the deadline: late, not a reply in time
            return;
        }
        ++r.icmp.packets_received;
        r.icmp.rtts.push_back(Duration(std::max<std::int64_t>(0, rx_ns - found.sent_ns)));
    } else {
        if (m.quoted_destination && *m.quoted_destination != r.destination) {
            ++stats_.unmatched;
            return;
        }
        if (found.verdict == EchoMatcher::Verdict::duplicate) return;
        Outcome o = family == AF_INET ? outcome_from_icmp4(m.type, m.code)
                                      : outcome_from_icmp6(m.type, m.code);
        if (!r.error || r.error->outcome == Outcome::error)
            r.set_error(o, from,
                        "icmp type " + std::to_string(m.type) + " code " + std::to_string(m.code));
    }
    matcher_.answered(found.key);
    ++r.resolved;
    const int packets = r.icmp_params().packets;
    if (r.resolved >= packets && static_cast<int>(r.keys.size()) >= packets) finish(found.round);
}

void IcmpProbe::finish(std::uint32_t index) {
    Round& r = rounds_[index];
    if (!r.active) return;
    if (r.timer) wire_.cancel_timer(r.timer);
    r.timer = 0;
    ++r.generation;
    for (std::uint32_t key : r.keys)
        matcher_.expire(key, index);
    ProbeResult result;
    const bool error_seen = r.error != nullptr;
    if (error_seen) {
        result.outcome = r.error->outcome;
        result.reporter = r.error->reporter;
        result.detail = std::move(r.error->detail);
        r.error.reset();
    }
    r.icmp.packets_sent = static_cast<std::uint32_t>(r.sent);
    if (r.icmp.packets_received > 0) {
        Duration sum{};
        for (auto d : r.icmp.rtts)
            sum += d;
        result.duration = sum / static_cast<long>(r.icmp.rtts.size());
        result.outcome = Outcome::ok;
        result.reporter.reset();
        result.detail.clear();
    } else {
        result.duration = wire_.now() - r.started;
        if (!error_seen) {
            result.outcome = Outcome::filtered;
            result.detail = "no reply before the timeout";
        }
    }
    // Unanswered requests while this socket was dropping packets: the replies may be among the
    // drops, so the round measures the prober, not the network.
    if (r.icmp.packets_received + r.icmp.duplicates < r.icmp.packets_sent &&
        r.socket->receiver->last_overflow >= r.started) {
        result.overload = Overload::dropped_replies;
        result.detail = "the prober fell behind: the kernel dropped replies it could not read";
    }
    result.kind = std::move(r.icmp);
    Done done = std::move(r.done);
    r.active = false;
    r.done = nullptr;
    r.params = Boxed<IcmpParams>();  // the job's boxes are not held past the round
    r.send = Boxed<SendOptions>();
    free_rounds_.push_back(index);
    done(std::move(result));
}

}  // namespace fedprobe
