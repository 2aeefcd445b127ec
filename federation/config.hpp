// The federation config: one file shared by every appliance; `site` says which network this one
// is in. Plain values, built by the loader (loader.hpp) and then read-only: a loaded Config is
// shared between threads as a shared_ptr<const Config>.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/address.hpp"
#include "core/duration.hpp"
#include "core/socket.hpp"
#include "probes/kinds.hpp"
#include "probes/service.hpp"
#include "probes/stamp/stamp_reflector.hpp"

namespace fedprobe {

enum class NetworkKind { nhs, psn, other };

struct Network {
    std::string id;
    NetworkKind kind = NetworkKind::other;
    std::string name;
    std::vector<Prefix> prefixes;
    std::optional<double> rate_limit;  // probes/s towards this network; default from [fedprobe]
    // Its appliance's metrics endpoint as the central Prometheus reaches it (management
    // network): what `fedprobe export prometheus` writes as a scrape target.
    std::optional<Endpoint> appliance = std::nullopt;
    // Its appliance's address on the federation side, as the other appliances reach it (and
    // per site where NAT shows it otherwise): the loader derives a target `ID-appliance` from
    // it, so every appliance traces its way to every other and the way back is always measured.
    std::optional<IpAddress> appliance_address = std::nullopt;
    // `icmp = "blocked"`: its border drops ICMP both ways, by its own policy. Echoes into or out
    // of it are then expected to fail, and traces across it are expected nothing of
    // (policy/expectation.hpp).
    bool icmp_blocked = false;
};

// One entry of a target's `probes`: a kind of the table (kinds.hpp) and maybe a service.
struct ProbeSpec {
    std::size_t kind = 0;  // index into Kinds
    std::string service;   // services key; empty for "KIND" alone
    std::string_view name() const { return kind_name(kind); }
    std::string str() const {
        return service.empty() ? std::string(name()) : std::string(name()) + ":" + service;
    }
    friend bool operator==(const ProbeSpec&, const ProbeSpec&) = default;
};

struct Target {
    std::string id;
    std::string network;
    IpAddress address;
    Duration interval{};
    Duration timeout{};
    bool enabled = true;
    // false: not a destination of the flows to its network (a measurement endpoint such as
    // another appliance's STAMP reflector, which serves none of the policy's services).
    bool flow_destination = true;
    KindOptions options;  // [targets.KIND] tables, one optional per kind of the table

    // What few targets set, kept apart: 184 bytes a target when inline, and a federation may
    // list 100,000 targets.
    struct Extras {
        std::map<std::string, IpAddress> addresses_from;  // site -> address seen from it (NAT)
        std::map<std::string, std::string> labels;
        std::vector<std::string> from_sites;  // empty: every site probes it
        SendOptions send;
        // `expect`: what its probes should end as, "fail" (any failure) or one outcome's name
        // ("tls_error"): a server kept broken on purpose, watched anyway. By probe ("tcp:rdp"),
        // or for all of them under "".
        std::map<std::string, std::string> expect;
    };

    // Its `probes = [...]`, in order. Targets listing the same probes share one list (the
    // loader's BoxPool): a list of its own cost each of 100,000 targets 88 bytes.
    const std::vector<ProbeSpec>& probes() const {
        static const std::vector<ProbeSpec> none;
        return probe_list ? *probe_list : none;
    }
    Boxed<std::vector<ProbeSpec>> probe_list;  // for the loader; read through probes()

    const std::map<std::string, IpAddress>& addresses_from() const {
        return extra().addresses_from;
    }
    const std::map<std::string, std::string>& labels() const { return extra().labels; }
    const std::vector<std::string>& from_sites() const { return extra().from_sites; }
    const SendOptions& send() const { return extra().send; }
    // What its probe `spec` should end as: "" for success, "fail", or an outcome's name.
    const std::string& expect(const std::string& spec) const {
        static const std::string none;
        const auto& e = extra().expect;
        if (e.empty()) return none;
        if (auto it = e.find(spec); it != e.end()) return it->second;
        auto all = e.find("");
        return all == e.end() ? none : all->second;
    }
    // For the loader: the extras, made on first use.
    Extras& set_extras() {
        if (!extras) extras = Extras{};
        return extras.edit();
    }

    template <typename K>
    const typename K::Options* options_for() const {
        return std::get<Boxed<typename K::Options>>(options).get();
    }

    const IpAddress& address_for(const std::string& site) const {
        if (!extras) return address;
        auto it = extras->addresses_from.find(site);
        return it == extras->addresses_from.end() ? address : it->second;
    }
    bool probed_from(const std::string& site) const;

  private:
    Boxed<Extras> extras;  // empty when none is set: read through the accessors above

    const Extras& extra() const {
        static const Extras none;
        return extras ? *extras : none;
    }
};

enum class Expectation { allow, deny };

// A declared flow of the federation's policy: from these sites, to a target (or every target
// of a network), on a service, the firewalls must allow it or must stop it.
struct Flow {
    std::string id;
    std::vector<std::string> from;  // sites (network ids)
    std::string to;                 // a target id or a network id
    bool to_network = false;
    std::string service;
    Expectation expect = Expectation::allow;
    std::string note;
    int line = 0;  // where it is declared, for messages
    // What tests it: tcp or udp on its service, as the service's transport says. Set by the
    // loader; jobs point at it as target jobs point at the target's own probes.
    ProbeSpec probe;
};

// [fedprobe.web.tls]: the endpoint over TLS, with exporter-toolkit's field names.
enum class ClientAuth {
    none,                // NoClientCert
    require_any,         // RequireAnyClientCert
    verify_if_given,     // VerifyClientCertIfGiven
    require_and_verify,  // RequireAndVerifyClientCert
};
struct WebTlsConfig {
    std::string cert_file, key_file;
    ClientAuth client_auth = ClientAuth::none;
    std::string client_ca_file;
    bool tls13_only = false;                 // min_version TLS13 (else TLS12)
    std::vector<std::string> cipher_suites;  // Go's names; TLS 1.2 only, as exporter-toolkit's
    friend bool operator==(const WebTlsConfig&, const WebTlsConfig&) = default;
};

struct WebConfig {
    std::map<std::string, std::string> basic_auth_users;  // user -> bcrypt hash
    std::optional<WebTlsConfig> tls;                      // unset: plain HTTP
    // Clients the listener accepts connections from (empty: every one); others are closed as
    // they connect, before any request is read. IPv4 and IPv6, plain and over TLS.
    std::vector<Prefix> allow;
};

// [fedprobe.capture]: passive capture of handshakes on these interfaces (off when absent).
struct CaptureConfig {
    std::vector<std::string> interfaces;
    std::size_t max_flows = 65536;  // handshakes followed at once, tombstones included
    Duration handshake_timeout = std::chrono::seconds(3);
    friend bool operator==(const CaptureConfig&, const CaptureConfig&) = default;
};

struct Settings {
    std::string site;
    Endpoint listen{*IpAddress::parse("127.0.0.1"), 9641};
    Duration interval = std::chrono::seconds(15);
    Duration timeout = std::chrono::seconds(2);
    double rate_limit = 50;  // probes/s per destination network
    std::string ca_file;     // CA bundle for https probes; empty: the system's
    WebConfig web;
    std::optional<CaptureConfig> capture;
    // [fedprobe.stamp]: the STAMP reflector (off when absent); `allow` already turned into the
    // allowed networks' prefixes.
    std::optional<StampReflectorSettings> stamp;
};

struct Config {
    std::string path;
    // SHA-256 of the file's bytes, in hex: which copy of the federation file an appliance runs
    // (fedprobe_config_info), the same on every appliance that runs the same file.
    std::string sha256;
    Settings settings;
    std::vector<Network> networks;
    std::map<std::string, Service> services;
    // A service's check keys ([services] NAME = { check = "mllp", mllp = { ... } }), for its
    // flows to targets that set none of their own: by service name.
    std::map<std::string, KindOptions> service_check_options;
    std::vector<Target> targets;
    std::vector<Flow> flows;

    const Target* target(const std::string& id) const;
    const Network* network(const std::string& id) const;
    double rate_limit_for(const std::string& network_id) const;
};

}  // namespace fedprobe
