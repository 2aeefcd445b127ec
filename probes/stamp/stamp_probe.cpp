#include "probes/stamp/stamp_probe.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <numeric>

#include "probes/outcome.hpp"

namespace fedprobe {

namespace {

constexpr auto kForgetAfter = std::chrono::hours(1);  // a session no poll has used this long

std::string session_key(const ProbeRequest& req, const StampParams& p, const SendOptions& send) {
    std::string k = req.destination.str() + "|" + std::to_string(req.port) + "|" +
                    std::to_string(p.ssid) + "|" + std::to_string(send.dscp) + "|" +
                    (send.source ? send.source->str() : "") + "|" + send.device + "|" +
                    (p.ptp ? "ptp" : "ntp") + "|" + (p.stateful ? "sf" : "sl") + "|" +
                    p.auth_key_file + "|";
    k.append(p.key.begin(), p.key.end());
    return k;
}

double mean(const std::vector<double>& v) {
    return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

std::string ms(double seconds) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", seconds * 1e3);
    return buf;
}

}  // namespace

std::unique_ptr<Probe> StampKind::make_probe(EventLoop& loop) {
    return std::make_unique<StampProbe>(loop);
}

StampProbe::~StampProbe() {
    for (auto& [key, s] : sessions_)
        close_session(*s);
}

void StampProbe::close_session(Session& s) {
    if (s.round && s.round->timer) wire_.cancel_timer(s.round->timer);
    s.round.reset();
    if (s.fd >= 0) {
        wire_.unwatch(s.fd);
        wire_.close(s.fd);
        s.fd = -1;
    }
}

void StampProbe::forget_stale(TimePoint now) {
    if (now < next_forget_) return;
    next_forget_ = now + std::chrono::minutes(1);
    for (auto it = sessions_.begin(); it != sessions_.end();) {
        Session& s = *it->second;
        if (s.round || now - s.last_used < kForgetAfter) {
            ++it;
            continue;
        }
        close_session(s);
        it = sessions_.erase(it);
    }
}

Result<StampProbe::Session*> StampProbe::session_for(const ProbeRequest& req) {
    const StampParams& p = req.as<StampKind>();
    SendOptions send = req.send();
    if (p.dscp >= 0) send.dscp = p.dscp;
    const std::string key = session_key(req, p, send);
    if (auto it = sessions_.find(key); it != sessions_.end()) {
        // packets, spacing and padding may change between rounds, never within one
        if (!it->second->round) it->second->params = p;
        return it->second.get();
    }
    auto opened = wire_.open(req.destination.family, SOCK_DGRAM, IPPROTO_UDP, send);
    if (!opened.ok()) return opened.status();
    const int fd = *opened;
    auto s = std::make_unique<Session>();
    s->fd = fd;
    s->destination = req.destination;
    s->port = req.port;
    s->params = p;
    Status st = wire_.enable_rx_timestamps(fd);
    // Connected: the kernel hands this socket only the reflector's replies and the ICMP errors
    // about our packets, and the source port stays the session's.
    if (st.ok() && wire_.connect(fd, req.destination, req.port) != 0)
        st = Status::from_errno("connect", errno);
    std::optional<Endpoint> bound;
    if (st.ok() && !(bound = wire_.local_endpoint(fd)))
        st = Status::from_errno("getsockname", errno);
    if (!st.ok()) {
        wire_.close(fd);
        return st;
    }
    s->local = bound->address;
    s->local_port = bound->port;
    Session* raw = s.get();
    st = wire_.watch(fd, EPOLLIN | EPOLLERR, [this, raw](std::uint32_t ev) { on_event(*raw, ev); });
    if (!st.ok()) {
        wire_.close(fd);
        return st;
    }
    sessions_.emplace(key, std::move(s));
    return raw;
}

void StampProbe::start(const ProbeRequest& req, Done done) {
    const TimePoint now = wire_.now();
    forget_stale(now);
    auto fail = [&](std::string why) {
        wire_.defer([done = std::move(done), why = std::move(why)] {
            ProbeResult r;
            r.outcome = Outcome::error;
            r.detail = why;
            done(std::move(r));
        });
    };
    auto got = session_for(req);
    if (!got.ok()) return fail(got.status().message());
    Session& s = **got;
    if (s.round) {
        return fail(
            "the previous STAMP round is still running: stamp.packets x stamp.spacing + the "
            "timeout must fit in the interval");
    }
    s.last_used = now;
    auto round = std::make_unique<Round>();
    round->done = std::move(done);
    round->started = now;
    round->timeout = req.timeout;
    round->packets = s.params.packets;
    round->first_seq = s.next_seq;
    round->pacer = req.pacer;
    s.round = std::move(round);
    send_next(s);
}

void StampProbe::send_next(Session& s) {
    Round& r = *s.round;
    r.timer = 0;
    const StampParams& p = s.params;
    StampSenderPacket pkt;
    pkt.seq = s.next_seq++;
    pkt.ssid = static_cast<std::uint16_t>(p.ssid);
    pkt.error_estimate = local_error_estimate(p.ptp).pack();
    if (p.tlvs) {
        StampCos cos;
        cos.dscp1 = static_cast<std::uint8_t>(std::max(p.dscp, 0));
        pkt.tlvs.push_back(make_cos_tlv(cos));
        pkt.tlvs.push_back(make_location_request(s.destination.family));
        if (p.padding > 0)
            pkt.tlvs.push_back(make_padding_tlv(static_cast<std::size_t>(p.padding)));
    }
    const std::int64_t t1 = wire_.wall_ns();
    pkt.timestamp = stamp_timestamp(t1, p.ptp);
    const auto bytes = encode(pkt, p.key.empty() ? nullptr : &p.key);
    r.sent.push_back(Sent{t1, -1});
    if (wire_.send(s.fd, bytes) < 0 && !r.send_errno) r.send_errno = errno;

    const TimePoint now = wire_.now();
    if (static_cast<int>(r.sent.size()) < r.packets) {
        TimePoint next = now + p.spacing;
        // Each packet after the first takes a slot of the destination network's rate limit.
        if (r.pacer) next = std::max(next, r.pacer->reserve(next));
        r.timer = wire_.add_timer(next, [this, &s] { send_next(s); });
    } else {
        r.timer = wire_.add_timer(now + r.timeout, [this, &s] {
            s.round->timer = 0;
            finish(s);
        });
    }
}

void StampProbe::on_event(Session& s, std::uint32_t events) {
    if (events & EPOLLERR) {
        while (auto q = wire_.read_error(s.fd))
            if (s.round && !s.round->icmp && q->from_icmp()) s.round->icmp = std::move(*q);
    }
    // Bounded, so one busy session cannot hold the loop; level-triggered, the rest comes next.
    for (int n = 0; n < 64; ++n) {
        std::int64_t rx_ns = 0;
        const ssize_t len = wire_.receive_stamped(s.fd, buffer_, rx_ns);
        if (len < 0) break;  // EAGAIN; or a pending ICMP error, which the queue above holds
        if (s.round) on_reply(s, {buffer_.data(), static_cast<std::size_t>(len)}, rx_ns);
    }
    Round* r = s.round.get();
    if (r && static_cast<int>(r->sent.size()) == r->packets &&
        std::all_of(r->sent.begin(), r->sent.end(), [](const Sent& x) { return x.rtt >= 0; })) {
        wire_.cancel_timer(r->timer);
        r->timer = 0;
        finish(s);
    }
}

void StampProbe::on_reply(Session& s, std::span<const std::uint8_t> data, std::int64_t rx_ns) {
    Round& r = *s.round;
    StampReflectorPacket reply;
    if (decode(data, s.params.key.empty() ? nullptr : &s.params.key, reply) != StampParse::ok) {
        ++r.undecodable;
        return;
    }
    // Only this round's packets, each once: a late reply to an earlier round is loss there.
    if (reply.sender_seq - r.first_seq >= r.sent.size()) return;
    Sent& sent = r.sent[reply.sender_seq - r.first_seq];
    if (sent.rtt >= 0) return;
    const std::int64_t t4 = rx_ns ? rx_ns : wire_.wall_ns();
    const ErrorEstimate theirs = ErrorEstimate::unpack(reply.error_estimate);
    const std::int64_t t2 = stamp_timestamp_ns(reply.receive_timestamp, theirs.ptp);
    const std::int64_t t3 = stamp_timestamp_ns(reply.timestamp, theirs.ptp);
    const std::int64_t raw = t4 - sent.t1_ns;
    std::int64_t dwell = t3 - t2;
    if (dwell < 0 || dwell > raw) dwell = 0;  // a reflector clock that stepped between the two
    sent.rtt = static_cast<double>(std::max<std::int64_t>(raw - dwell, 0)) * 1e-9;
    // Half the exchange's round trip bounds the offset's error: the quickest says the most.
    if (r.best_rtt < 0 || sent.rtt < r.best_rtt) {
        r.best_rtt = sent.rtt;
        r.best_offset = static_cast<double>((t2 - sent.t1_ns) - (t4 - t3)) * 0.5e-9;
    }
    if (theirs.synchronised && local_error_estimate(false).synchronised) {
        r.forward.push_back(static_cast<double>(t2 - sent.t1_ns) * 1e-9);
        r.backward.push_back(static_cast<double>(t4 - t3) * 1e-9);
    }
    if (s.params.stateful) s.loss.reply(reply.sender_seq, reply.seq);
    for (const StampTlv& t : reply.tlvs) {
        if (t.flags & (kTlvUnrecognised | kTlvMalformed)) continue;
        if (auto cos = read_cos_tlv(t)) r.dscp_received = cos->dscp2;
        if (auto loc = read_location_tlv(t); loc && loc->source) {
            r.translated = *loc->source != s.local || loc->source_port != s.local_port;
            s.seen = Endpoint{*loc->source, loc->source_port}.str();
        }
    }
}

void StampProbe::finish(Session& s) {
    std::unique_ptr<Round> r = std::move(s.round);
    StampResult k;
    k.stateful = s.params.stateful;
    k.sent = static_cast<std::uint32_t>(r->sent.size());
    double previous = -1, jitter_sum = 0;
    int jitter_n = 0;
    for (const Sent& x : r->sent) {
        if (x.rtt < 0) continue;
        ++k.received;
        k.rtt.push_back(x.rtt);
        if (previous >= 0) {
            jitter_sum += std::abs(x.rtt - previous);
            ++jitter_n;
        }
        previous = x.rtt;
    }
    if (jitter_n) k.jitter = jitter_sum / jitter_n;
    if (!r->forward.empty()) {
        k.forward_delay = mean(r->forward);
        k.backward_delay = mean(r->backward);
    }
    if (s.params.stateful) {
        const std::uint64_t f = s.loss.forward_lost(), b = s.loss.backward_lost();
        k.forward_lost = f > s.reported_forward ? f - s.reported_forward : 0;
        k.backward_lost = b > s.reported_backward ? b - s.reported_backward : 0;
        s.reported_forward = std::max(s.reported_forward, f);
        s.reported_backward = std::max(s.reported_backward, b);
    }
    if (r->best_rtt >= 0) {
        k.clock_offset = r->best_offset;
        k.clock_offset_error = r->best_rtt / 2;
    }
    k.dscp_sent = std::max(s.params.dscp, 0);
    k.dscp_received = r->dscp_received;
    k.translated = r->translated;

    ProbeResult res;
    if (k.received > 0) {
        res.outcome = Outcome::ok;
        res.duration = std::chrono::duration_cast<Duration>(
            std::chrono::duration<double>(*std::min_element(k.rtt.begin(), k.rtt.end())));
        res.detail = std::to_string(k.received) + "/" + std::to_string(k.sent) +
                     " replies, rtt min " + ms(*std::min_element(k.rtt.begin(), k.rtt.end())) +
                     " ms mean " + ms(mean(k.rtt)) + " ms";
        if (k.translated) {
            const std::string local = Endpoint{s.local, s.local_port}.str();
            res.notice = *k.translated ? "the reflector saw us as " + s.seen + ", not " + local +
                                             ": the source is translated on the way"
                                       : "the reflector saw us as " + local + ", untranslated";
        }
    } else if (r->icmp) {
        res.outcome = outcome_of(*r->icmp);
        res.reporter = r->icmp->offender;
        res.detail =
            "icmp type " + std::to_string(r->icmp->type) + " code " + std::to_string(r->icmp->code);
    } else if (r->send_errno && outcome_from_errno(r->send_errno) != Outcome::ok) {
        res.outcome = outcome_from_errno(r->send_errno);
        res.detail = std::string("send: ") + std::strerror(r->send_errno);
    } else {
        res.outcome = Outcome::filtered;
        res.duration = r->timeout;
        res.detail = "no STAMP reply to " + std::to_string(k.sent) + " packets";
        if (r->undecodable)
            res.detail += " (" + std::to_string(r->undecodable) +
                          " answers did not decode: a key or mode mismatch?)";
    }
    res.kind = std::move(k);
    r->done(std::move(res));
}

}  // namespace fedprobe
