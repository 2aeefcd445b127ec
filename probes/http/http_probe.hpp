// http / http:SERVICE — one GET (or HEAD) on a fresh connection, with libcurl's multi socket
// interface driven by the daemon's own epoll loop and timerfd: no thread per probe. The URL's
// host is pinned to the target's address. Certificates are checked by fedprobe itself against
// a cached CA store, so an expired or unknown certificate still yields its dates before the
// probe reports tls_error, and no request is ever sent over an unverified connection.
#pragma once

#include <curl/curl.h>
#include <regex.h>

#include <deque>
#include <map>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "core/event_loop.hpp"
#include "core/socket.hpp"
#include "probes/ca_store.hpp"
#include "probes/http/http_kind.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

class HttpProbe : public Probe {
  public:
    // A TLS handshake costs about 2 ms of CPU here (OpenSSL 3.0): more at once than the one
    // probing thread can serve within a timeout would turn its own slowness into false
    // "filtered" verdicts. Beyond the cap probes queue; one that cannot start within its
    // timeout ends as `error` (the prober is overloaded), never as a network verdict.
    // Each transfer also holds one descriptor of the loop's FdBudget, shared with tcp and udp
    // probes, so that a low descriptor limit queues probes instead of failing them with EMFILE.
    static constexpr std::size_t kDefaultMaxInFlight = 128;

    explicit HttpProbe(EventLoop& loop, std::size_t max_in_flight = kDefaultMaxInFlight);
    ~HttpProbe() override;
    HttpProbe(const HttpProbe&) = delete;
    HttpProbe& operator=(const HttpProbe&) = delete;

    void start(const ProbeRequest& request, Done done) override;
    std::size_t in_flight() const { return transfers_.size() + queue_.size(); }
    std::uint64_t overloaded() const { return overloaded_; }  // probes never started, in total
    std::vector<std::uint64_t> totals() const override { return {overloaded_}; }

  private:
    struct Transfer;

    struct Queued {
        ProbeRequest request;
        Done done;
        TimePoint queued;
    };

    EventLoop& loop_;
    std::size_t max_in_flight_;
    std::deque<Queued> queue_;
    // Fires when the first queued probe's timeout passes, so it is failed as overloaded then,
    // not whenever a descriptor or a slot happens to come free.
    EventLoop::TimerId queue_timer_ = 0;
    TimePoint queue_timer_at_{};
    std::uint64_t overloaded_ = 0;
    CURLM* multi_ = nullptr;
    EventLoop::TimerId timer_ = 0;
    std::unordered_map<CURL*, std::unique_ptr<Transfer>> transfers_;
    std::unordered_map<int, Transfer*> sockets_;  // sockets we opened, for ICMP errors at close
    std::unordered_set<int> watched_;             // sockets on the epoll set
    std::map<std::string, std::unique_ptr<regex_t, void (*)(regex_t*)>> patterns_;
    CaStores ca_stores_;
    std::uint64_t budget_waiter_ = 0;

    const regex_t* pattern(const std::string& re);
    // Starts a transfer with a descriptor of the budget already taken; false when it failed
    // before any socket (its result is scheduled), so the caller gives the descriptor back.
    bool launch(const ProbeRequest& request, Done done);
    void start_queued();
    // Arms queue_timer_ for `at` if nothing earlier is armed; rearm_queue_timer() finds the
    // earliest timeout of what is queued.
    void arm_queue_timer(TimePoint at);
    void rearm_queue_timer();
    void fail_later(Done done, std::string detail, Duration duration = {}, bool overloaded = false);
    void action(int fd, int mask);
    void finish(CURL* easy, CURLcode code);

    // libcurl's callbacks
    static int on_socket(CURL* easy, curl_socket_t fd, int what, void* self, void* socketp);
    static int on_timer(CURLM* multi, long timeout_ms, void* self);
    static curl_socket_t open_socket(void* transfer, curlsocktype purpose,
                                     struct curl_sockaddr* address);
    static int close_socket(void* self, curl_socket_t fd);
    static CURLcode on_ssl_ctx(CURL* easy, void* ssl_ctx, void* transfer);
    static int on_connected(void* transfer, char* primary_ip, char* local_ip, int primary_port,
                            int local_port);
    static size_t on_body(char* data, size_t size, size_t count, void* transfer);
};

}  // namespace fedprobe
