// One application check's conversation, as a pure state machine: it is handed the server's
// bytes however they were split, and says what to send and when it has its verdict. It never
// touches a socket (chrony's ntp_core never does either), so each protocol's unit tests replay
// recorded exchanges byte by byte, truncated or oversized, without root. AppProbe
// (app_probe.hpp) drives one over a TCP connection. One dialogue per probe; event loop thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "probes/outcome.hpp"

namespace fedprobe {

struct ProbeResult;

// How a check speaks TLS, where it does: from the start (tls:, dicom.tls, LDAPS) or when its
// protocol asks (SMTP STARTTLS, LDAP StartTLS). The certificate is checked as http checks it.
struct TlsSettings {
    bool from_start = false;
    std::string server_name;  // SNI and the name the certificate must carry; "": the address
    std::string ca_file;      // "": the system's bundle
    bool verify = true;       // false: report the certificate, do not fail on it
    friend bool operator==(const TlsSettings&, const TlsSettings&) = default;
};

// What a TLS handshake showed, for the certificate series http and tls share.
struct TlsFacts {
    bool used = false;  // a handshake got as far as the server's certificate
    std::string version;
    std::optional<bool> verified;
    std::optional<double> leaf_not_after, chain_not_after;
};

// What the server's end looked like to the driver, for the kind's result.
struct AppFacts {
    // A reset after the handshake came from a device this many hops from the appliance, nearer
    // than the server (-1: no such reset).
    int reset_hops = -1;
    TlsFacts tls;
};

struct AppVerdict {
    Outcome outcome = Outcome::error;
    std::string detail;  // for logs only, never a label
};

struct AppStep {
    std::string send;                   // bytes to write now (empty: nothing)
    std::optional<AppVerdict> verdict;  // set: the check is over
    bool start_tls = false;             // after `send`, begin TLS (STARTTLS); tls() says how
};

// Bounds every dialogue keeps: a peer that sends 10 MB, or never ends its frame, costs the
// probe this buffer and its timeout, never more.
inline constexpr std::size_t kMaxAnswer = 64 * 1024;

class Dialogue {
  public:
    virtual ~Dialogue() = default;
    // Sent as soon as the connection is up (after the TLS handshake when TLS comes first);
    // empty when the server speaks first (SMTP).
    virtual std::string opening() = 0;
    // How this check speaks TLS; null: it does not.
    virtual const TlsSettings* tls() const { return nullptr; }
    // The TLS handshake asked for by start_tls completed and the certificate passed: what to
    // send now.
    virtual AppStep tls_ready() { return {}; }
    // More of the server's bytes, in order.
    virtual AppStep received(std::string_view bytes) = 0;
    // The server closed its side before a verdict.
    virtual AppVerdict closed() = 0;
    // The timeout came: a verdict the dialogue already holds (DICOM's echo succeeded and only
    // the release is missing), or nullopt for the driver to judge the silence.
    virtual std::optional<AppVerdict> timed_out() { return std::nullopt; }
    // Sets r.kind to the kind's own result.
    virtual void fill(ProbeResult& r, const AppFacts& facts) const = 0;
};

}  // namespace fedprobe
