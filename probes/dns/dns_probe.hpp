// dns / dns:SERVICE — a query with c-ares, classified by rcode and answers against what this
// site should see: ok, mismatch (split-horizon gone wrong), refused, filtered (no answer),
// unreachable or prohibited (an ICMP error, with the router or firewall that sent it), error.
// c-ares never touches a socket itself: its socket functions (ares_set_socket_functions) are
// the probe's Wire, the loop's own or a test's fake, and its sockets are watched on that
// Wire (ARES_OPT_SOCK_STATE_CB). Event loop thread only.
#pragma once

#include <ares.h>
#include <sys/socket.h>

#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include "core/loop_wire.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

class DnsProbe : public Probe {
  public:
    explicit DnsProbe(EventLoop& loop) : DnsProbe(std::make_unique<LoopWire>(loop), nullptr) {}
    explicit DnsProbe(Wire& wire) : DnsProbe(nullptr, &wire) {}
    ~DnsProbe() override;
    void start(const ProbeRequest& request, Done done) override;
    std::size_t in_flight() const { return queries_.size(); }

  private:
    struct Query {
        DnsProbe* self = nullptr;
        std::uint64_t id = 0;
        ares_channel channel = nullptr;
        TimePoint started;
        Wire::TimerId timer = 0;
        ProbeRequest request;
        Done done;
        std::set<int> fds;                      // watched on the wire
        std::map<int, sockaddr_storage> peers;  // what each socket connected to
        bool answered = false;
    };
    DnsProbe(std::unique_ptr<Wire> own, Wire* wire);

    std::unique_ptr<Wire> own_wire_;  // the loop's, unless a test gave its own
    Wire& wire_;
    std::uint64_t next_id_ = 1;
    std::unordered_map<std::uint64_t, std::unique_ptr<Query>> queries_;

    static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable);
    // The socket functions c-ares calls instead of the system's; `data` is the Query.
    static ares_socket_t wire_socket(int family, int type, int protocol, void* data);
    static int wire_close(ares_socket_t fd, void* data);
    static int wire_connect(ares_socket_t fd, const sockaddr* to, ares_socklen_t len, void* data);
    static ares_ssize_t wire_recvfrom(ares_socket_t fd, void* buf, size_t len, int flags,
                                      sockaddr* from, ares_socklen_t* from_len, void* data);
    static ares_ssize_t wire_sendv(ares_socket_t fd, const iovec* iov, int count, void* data);
    static const ares_socket_functions kWireFunctions;
    // An ICMP error about the query is its answer, as for udp: c-ares would call it a refusal.
    void on_icmp(Query& q, const QueuedError& error);
    static void on_answer(void* arg, int status, int timeouts, unsigned char* abuf, int alen);
    void complete(Query& q, ProbeResult result);
    void destroy(std::uint64_t id);
};

}  // namespace fedprobe
