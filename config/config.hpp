// The federation config: one file shared by every appliance; `site` says which network this one is
// in.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/address.hpp"
#include "config/duration.hpp"

namespace fedprobe {

enum class NetworkKind { nhs, psn, other };
enum class Transport { tcp, udp };

struct Network {
    std::string id;
    NetworkKind kind = NetworkKind::other;
    std::string name;
    std::vector<Prefix> prefixes;
    std::optional<double> rate_limit;  // probes/s towards this network; default from [fedprobe]
};

struct Service {
    std::string name;
    Transport transport = Transport::tcp;
    std::uint16_t port = 0;
};

struct ProbeSpec {
    std::string kind;     // "icmp", "tcp"
    std::string service;  // services key, empty for icmp
    std::string str() const { return service.empty() ? kind : kind + ":" + service; }
    friend bool operator==(const ProbeSpec&, const ProbeSpec&) = default;
};

struct IcmpOptions {
    int packets = 3;         // echo requests per round
    int payload_bytes = 56;  // ICMP data after the 8-byte header, like ping's default
    bool dont_fragment = false;
    int ttl = 0;                                       // 0: the system default
    Duration spacing = std::chrono::milliseconds(20);  // gap between packets of a round
    friend bool operator==(const IcmpOptions&, const IcmpOptions&) = default;
};

// Where and how probes leave this appliance; per target, defaults in [fedprobe].
struct SendOptions {
    std::optional<IpAddress> source;
    std::string device;  // SO_BINDTODEVICE: an interface or VRF
    int dscp = -1;       // -1: leave the system default
    friend bool operator==(const SendOptions&, const SendOptions&) = default;
};

// What a dns probe asks and what this site should get back. Split-horizon DNS answers
// differently per network, so the expected answers can be given per site.
struct DnsQuery {
    std::string name;
    std::string type = "A";  // A, AAAA, CNAME, MX, SRV, PTR, TXT
    std::string rcode = "NOERROR";
    std::vector<std::string> answers;  // the exact set expected; empty: any answer will do
    std::map<std::string, std::vector<std::string>> answers_from;  // site -> the set that site gets
    std::string answer_regex;  // POSIX extended; every answer must match
    friend bool operator==(const DnsQuery&, const DnsQuery&) = default;

    const std::vector<std::string>& answers_for(const std::string& site) const {
        auto it = answers_from.find(site);
        return it == answers_from.end() ? answers : it->second;
    }
};

// udp:SERVICE probes: what to send and, optionally, what the reply must contain.
struct UdpOptions {
    std::string payload;  // empty: "fedprobe probe from SITE"
    std::string expect;   // POSIX extended pattern the reply (as text) must match; empty: any reply
    friend bool operator==(const UdpOptions&, const UdpOptions&) = default;
};

// http / http:SERVICE probes. "http" fetches `url`; "http:SERVICE" builds
// SCHEME://HOST:PORT/PATH from the service. Either way the URL's host is pinned to the target's
// address, so a probe never asks the appliance's resolver unless `system_resolver` says so.
struct HttpOptions {
    std::string url;               // for "http"
    std::string host;              // for "http:SERVICE": the name for SNI, Host and the
                                   // certificate check; empty: the target's address
    std::string path = "/";        // for "http:SERVICE"
    std::optional<bool> tls;       // for "http:SERVICE": https unless the port is 80 or 8080
    std::vector<int> status;       // expected status codes; empty: any 2xx
    std::string body_regex;        // POSIX extended; the body must match
    std::string ca_file;           // empty: [fedprobe] ca_file, else the system's CA bundle
    bool verify = true;            // false: report the certificate, never fail on it
    std::string client_cert;       // PEM: a client certificate for mutual TLS (as NHS Spine wants)
    std::string client_key;        // PEM: its key; empty: in client_cert
    std::string method = "GET";    // GET or HEAD
    bool system_resolver = false;  // resolve the URL's host with the appliance's resolver
    friend bool operator==(const HttpOptions&, const HttpOptions&) = default;
};

struct Target {
    std::string id;
    std::string network;
    IpAddress address;
    std::map<std::string, IpAddress> addresses_from;  // site -> address seen from that site (NAT)
    std::vector<ProbeSpec> probes;
    Duration interval{};
    Duration timeout{};
    std::map<std::string, std::string> labels;
    std::vector<std::string> from_sites;  // empty: every site probes it
    bool enabled = true;
    SendOptions send;
    IcmpOptions icmp;
    std::optional<DnsQuery> dns;
    UdpOptions udp;
    HttpOptions http;

    const IpAddress& address_for(const std::string& site) const {
        auto it = addresses_from.find(site);
        return it == addresses_from.end() ? address : it->second;
    }
    bool probed_from(const std::string& site) const;
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
};

struct WebConfig {
    std::map<std::string, std::string> basic_auth_users;  // user -> bcrypt hash
};

struct Settings {
    std::string site;
    Endpoint listen{*IpAddress::parse("127.0.0.1"), 9641};
    Duration interval = std::chrono::seconds(15);
    Duration timeout = std::chrono::seconds(2);
    double rate_limit = 50;  // probes/s per destination network
    std::string ca_file;     // CA bundle for https probes; empty: the system's
    WebConfig web;
};

struct Config {
    std::string path;
    Settings settings;
    std::vector<Network> networks;
    std::map<std::string, Service> services;
    std::vector<Target> targets;
    std::vector<Flow> flows;

    const Target* target(const std::string& id) const;
    const Network* network(const std::string& id) const;
    double rate_limit_for(const std::string& network_id) const;
};

}  // namespace fedprobe
