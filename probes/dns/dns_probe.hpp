// dns / dns:SERVICE — a query with c-ares, whose sockets are driven by the daemon's own epoll
// loop (ARES_OPT_SOCK_STATE_CB), classified by rcode and answers against what this site
// should see: ok, mismatch (split-horizon gone wrong), refused, filtered (no answer), error.
#pragma once

#include <ares.h>

#include <memory>
#include <set>
#include <unordered_map>

#include "core/event_loop.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

class DnsProbe : public Probe {
  public:
    explicit DnsProbe(EventLoop& loop);
    ~DnsProbe() override;
    void start(const ProbeRequest& request, Done done) override;
    std::size_t in_flight() const { return queries_.size(); }

  private:
    struct Query {
        DnsProbe* self = nullptr;
        std::uint64_t id = 0;
        ares_channel channel = nullptr;
        TimePoint started;
        EventLoop::TimerId timer = 0;
        ProbeRequest request;
        Done done;
        std::set<int> fds;
        bool answered = false;
    };
    EventLoop& loop_;
    std::uint64_t next_id_ = 1;
    std::unordered_map<std::uint64_t, std::unique_ptr<Query>> queries_;

    static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable);
    static void on_answer(void* arg, int status, int timeouts, unsigned char* abuf, int alen);
    void complete(Query& q, ProbeResult result);
    void destroy(std::uint64_t id);
};

}  // namespace fedprobe
