// The result of `fedprobe check`: one record per (flow, target), in a form that is written as
// JSON (schema version 1), JUnit XML or a table, and read back as a baseline.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "probes/path/path_middlebox.hpp"
#include "probes/path/path_mtu.hpp"
#include "probes/path/path_trace.hpp"

namespace fedprobe {

struct FlowRecord {
    std::string flow, from, to, network, address, service, proto;
    int port = 0;
    std::string expect;   // allow | deny
    std::string outcome;  // an Outcome's name: ok, refused, filtered, ...
    std::string
        verdict;  // compliant, violation, blocked, service_down, open_path, not_verified, error
    bool compliant = false;
    std::string reporter, reporter_network;  // empty when nothing answered
    double duration_seconds = 0;
    std::string note;
    // An allow flow found filtered, traced: the last hop that answered (ttl 0: none did).
    using BlockedAfter = fedprobe::BlockedAfter;
    std::optional<BlockedAfter> blocked_after;
    // check --mtu: an allow flow that works, traced with a path MTU search.
    std::optional<PathMtu> path_mtu;
    std::vector<MiddleboxSeen> middlebox;  // changes its quotes showed (any traced flow)

    std::string key() const { return flow + "/" + to; }  // identity across runs
};

struct CheckRun {
    static constexpr int kSchemaVersion = 1;
    std::string site, config;
    std::string started;  // RFC 3339, UTC
    double duration_seconds = 0;
    std::vector<FlowRecord> flows;

    std::size_t non_compliant() const;
};

std::string to_json(const CheckRun& run);
// A path MTU search as JSON (check's path_mtu, trace's mtu); and back, for a saved run.
nlohmann::ordered_json mtu_json(const PathMtu& m);
PathMtu mtu_from_json(const nlohmann::json& j);
// Middlebox changes as JSON: [{"change", "ttl", "address", "network"}], for check and trace.
nlohmann::ordered_json middlebox_json(const std::vector<MiddleboxSeen>& seen);
// "path MTU 1400 (ptb from 172.20.1.1 (hscn-exchange))", with the black hole when there is one.
std::string describe_path_mtu(const PathMtu& m);
// Parses a saved run; nullopt with `error` set when the text is not one.
std::optional<CheckRun> check_run_from_json(const std::string& text, std::string& error);
std::string to_junit(const CheckRun& run);
std::string to_table(const CheckRun& run, bool colour);

struct BaselineDiff {
    std::vector<const FlowRecord*> newly_broken;  // compliant before (or new), not now
    std::vector<const FlowRecord*> newly_fixed;   // not compliant before, compliant now
    std::vector<const FlowRecord*> still_broken, still_ok;
    std::vector<std::string> gone;  // in the baseline, no longer in the policy
    // check --mtu in both runs: flows still working whose path got worse (a black hole that
    // was not there, or a smaller MTU), each with "1500 -> 1400, ..." saying how.
    std::vector<std::pair<const FlowRecord*, std::string>> path_worse;
};
BaselineDiff diff_against(const CheckRun& baseline, const CheckRun& now);
std::string to_text(const BaselineDiff& d, bool colour);

}  // namespace fedprobe
