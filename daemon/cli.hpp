// fedprobe's command line: subcommands, their options, and their help texts.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace fedprobe {

struct CliCommand {
    enum class Kind {
        run,
        validate,
        check,
        trace,
        passive,
        export_,
        mesh,
        blame,
        diff,
        help,
        version
    } kind = Kind::help;
    std::string subcommand;  // for help: which one ("" for the overview)
    std::string config;
    std::optional<std::string> site;
    std::string log_level = "info";
    // run, validate: signed config
    std::string trusted_keys;
    int signatures = 0;  // 0: not given (1 with --trusted-keys)
    // check
    std::string flow_pattern, format = "table", save, baseline;
    bool trace_blocked = true;  // check: trace flows found filtered
    // trace
    std::string target, service, method;
    int flows = 0;     // 0: the target's path.flows
    bool mtu = false;  // trace: search the path MTU too
    // passive
    std::string read;  // the capture file
    // export
    std::string what;  // "prometheus"
    std::string out;
    std::string password_file = "/etc/prometheus/fedprobe.password";
    // mesh
    std::string reference;
    std::vector<std::string> scrapes;
    // blame
    std::vector<std::string> sources;  // scrape URLs or files
    std::string prometheus;            // the central Prometheus's base URL
    std::string serve;                 // ADDRESS:PORT to serve the verdicts on
    // diff
    std::vector<std::string> files;  // OLD NEW
};

struct CliParse {
    std::optional<CliCommand> command;
    std::string error;  // set when the command line is wrong: print it with the usage, exit 2
};

CliParse parse_cli(const std::vector<std::string>& args);  // args without argv[0]
std::string help_text(const std::string& subcommand);

}  // namespace fedprobe
