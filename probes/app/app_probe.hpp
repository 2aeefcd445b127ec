// The probe behind every application kind (mllp, dicom, tls, smtp, ldap): a TCP connect judged
// as tcp judges it, then the kind's Dialogue over the connection, in clear or over TLS (from
// the start, or when the protocol asks for it), with one bounded buffer and the probe's one
// timeout. What happens to the first data after the handshake is judged here, the same for
// every protocol:
//   - never acknowledged by the server's TCP (TCP_INFO shows it outstanding at the timeout):
//     app_blocked, dropped on the way;
//   - reset by a sender whose TTL puts it nearer than the SYN-ACK's: app_blocked, with the
//     device's distance in hops (ResetWatcher);
//   - acknowledged and then silence, or reset by the server itself: mismatch.
// TLS is checked as http checks it (OpenSSL, the CA bundles shared through CaStores): a failed
// handshake or certificate is tls_error, and the certificate's dates are kept either way.
// Each connection holds one descriptor of the loop's FdBudget, as tcp's do. Event loop thread.
#pragma once

#include <openssl/ssl.h>

#include <functional>
#include <map>
#include <memory>
#include <unordered_map>

#include "core/loop_wire.hpp"
#include "probes/app/dialogue.hpp"
#include "probes/app/reset_watcher.hpp"
#include "probes/ca_store.hpp"
#include "probes/socket_attempts.hpp"

namespace fedprobe {

class AppProbe : public Probe {
  public:
    using MakeDialogue = std::function<std::unique_ptr<Dialogue>(const ProbeRequest&)>;
    AppProbe(EventLoop& loop, MakeDialogue make);
    ~AppProbe() override;
    void start(const ProbeRequest& request, Done done) override;
    std::size_t in_flight() const { return attempts_.size(); }

  private:
    enum class Tls { none, handshake, up };
    struct Session {
        std::unique_ptr<Dialogue> dialogue;
        IpAddress remote;
        std::uint16_t remote_port = 0, local_port = 0;
        bool watched = false;  // the reset watcher keeps its TTLs
        bool connected = false;
        Tls tls = Tls::none;
        struct SslFree {
            void operator()(SSL* p) const { SSL_free(p); }
        };
        std::unique_ptr<SSL, SslFree> ssl;
        TlsFacts tls_facts;
        std::string out;  // not yet written
        std::size_t sent = 0, received = 0;
    };

    EventLoop& loop_;
    LoopWire wire_;  // SocketAttempts' sockets and timers
    MakeDialogue make_;
    std::shared_ptr<ResetWatcher> resets_;  // the loop's one (ResetWatcher::of)
    CaStores ca_stores_;
    std::map<std::string, SSL_CTX*> contexts_;  // by CA file
    std::unordered_map<int, Session> sessions_;
    SocketAttempts attempts_;  // last: destroyed first, while sessions_ still exist

    void begin(const ProbeRequest& request, Done done);
    void on_event(int fd, std::uint32_t events);
    void on_connect(int fd, int connect_error);
    void on_timeout(int fd);
    void on_reset(int fd, Session& s);
    void read_plain(int fd, Session& s);
    void read_tls(int fd, Session& s);
    // Feeds what arrived to the dialogue; false when the probe finished.
    bool deliver(int fd, Session& s, const char* data, std::size_t n);
    // Writes what is pending; false when the probe finished (a reset on write).
    bool flush(int fd, Session& s);
    void apply(int fd, Session& s, AppStep step);
    void watch_for(int fd, Session& s);  // EPOLLIN, and EPOLLOUT while output waits
    void start_tls(int fd, Session& s);
    void continue_handshake(int fd, Session& s);
    void finish(int fd, ProbeResult r, AppFacts facts = {});
    void finish(int fd, const AppVerdict& v, AppFacts facts = {});
};

}  // namespace fedprobe
