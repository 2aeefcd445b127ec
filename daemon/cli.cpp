#include "daemon/cli.hpp"

namespace fedprobe {

namespace {
CliCommand make(CliCommand::Kind kind, std::string subcommand = {}) {
    CliCommand c;
    c.kind = kind;
    c.subcommand = std::move(subcommand);
    return c;
}
}  // namespace

std::string help_text(const std::string& subcommand) {
    if (subcommand == "run")
        return "usage: fedprobe run --config FILE [--site ID] [--log-level LEVEL]\n\n"
               "Runs the monitoring daemon in the foreground (systemd Type=notify). It probes the\n"
               "targets of the federation file from this appliance's site and serves Prometheus\n"
               "metrics on [fedprobe] listen. SIGHUP reloads the file; an invalid file is "
               "rejected\n"
               "and the running config kept. SIGTERM or SIGINT stops it.\n\n"
               "  -c, --config FILE     the federation file (TOML)\n"
               "  -s, --site ID         this appliance's network; overrides FEDPROBE_SITE and\n"
               "                        [fedprobe] site\n"
               "  -l, --log-level LVL   trace, debug, info (default), warn, error\n";
    if (subcommand == "validate")
        return "usage: fedprobe validate --config FILE [--site ID]\n\n"
               "Checks the federation file and prints every problem as FILE:LINE:COLUMN: message.\n"
               "Exits 0 when valid (warnings allowed), 1 when not, 2 on a wrong command line.\n\n"
               "  -c, --config FILE     the federation file (TOML)\n"
               "  -s, --site ID         check as this site; overrides [fedprobe] site\n";
    if (subcommand == "check")
        return "usage: fedprobe check --config FILE [--site ID] [--flow PATTERN] [--format "
               "table|json|junit]\n"
               "                      [--save FILE] [--baseline FILE]\n\n"
               "Runs the policy's flows that start from this site once, in parallel within the "
               "rate\n"
               "limit, and reports each flow's expectation, outcome, verdict and the device that\n"
               "answered. Exits 0 when every flow complies, 1 when one does not, 2 on a usage or\n"
               "config error. With --baseline, compares with a saved run and exits 1 only for "
               "flows\n"
               "that are newly non-compliant: run it before and after a change window.\n\n"
               "  -c, --config FILE     the federation file (TOML)\n"
               "  -s, --site ID         this appliance's network; overrides FEDPROBE_SITE and\n"
               "                        [fedprobe] site\n"
               "  -f, --flow PATTERN    only flows whose id contains PATTERN\n"
               "      --format FMT      table (default), json (schema version 1) or junit\n"
               "      --save FILE       also write the JSON result to FILE\n"
               "      --baseline FILE   compare with a JSON result saved earlier\n";
    return "usage: fedprobe COMMAND [OPTIONS]\n\n"
           "fedprobe probes the other networks of a federation for reachability and firewall\n"
           "behaviour, says why a flow failed and which device stopped it, and exports it all to\n"
           "Prometheus.\n\n"
           "commands:\n"
           "  run        run the monitoring daemon\n"
           "  validate   check a federation file\n"
           "  check      verify the firewall policy's flows once (before/after a change)\n\n"
           "  --help     this text; 'fedprobe COMMAND --help' for a command's options\n"
           "  --version  print the version\n";
}

CliParse parse_cli(const std::vector<std::string>& args) {
    CliParse out;
    if (args.empty()) {
        out.error = "no command given";
        return out;
    }
    const std::string& first = args[0];
    if (first == "--help" || first == "-h" || first == "help") {
        out.command = make(CliCommand::Kind::help, args.size() > 1 ? args[1] : "");
        return out;
    }
    if (first == "--version" || first == "-V" || first == "version") {
        out.command = make(CliCommand::Kind::version);
        return out;
    }
    CliCommand cmd;
    cmd.subcommand = first;
    if (first == "run")
        cmd.kind = CliCommand::Kind::run;
    else if (first == "validate")
        cmd.kind = CliCommand::Kind::validate;
    else if (first == "check")
        cmd.kind = CliCommand::Kind::check;
    else {
        out.error = "unknown command '" + first + "'";
        return out;
    }
    for (std::size_t i = 1; i < args.size(); ++i) {
        std::string arg = args[i];
        std::optional<std::string> inline_value;
        if (arg.starts_with("--") && arg.find('=') != std::string::npos) {
            inline_value = arg.substr(arg.find('=') + 1);
            arg = arg.substr(0, arg.find('='));
        }
        if (arg == "--help" || arg == "-h") {
            out.command = make(CliCommand::Kind::help, first);
            return out;
        }
        auto value = [&](std::string& into) {
            if (inline_value) {
                into = *inline_value;
            } else if (i + 1 < args.size()) {
                into = args[++i];
            } else {
                out.error = "option " + arg + " needs a value";
                return false;
            }
            if (into.empty()) {
                out.error = "option " + arg + " needs a non-empty value";
                return false;
            }
            return true;
        };
        if (arg == "--config" || arg == "-c") {
            if (!value(cmd.config)) return out;
        } else if (arg == "--site" || arg == "-s") {
            std::string site;
            if (!value(site)) return out;
            cmd.site = site;
        } else if ((arg == "--log-level" || arg == "-l") && cmd.kind == CliCommand::Kind::run) {
            if (!value(cmd.log_level)) return out;
        } else if ((arg == "--flow" || arg == "-f") && cmd.kind == CliCommand::Kind::check) {
            if (!value(cmd.flow_pattern)) return out;
        } else if (arg == "--format" && cmd.kind == CliCommand::Kind::check) {
            if (!value(cmd.format)) return out;
            if (cmd.format != "table" && cmd.format != "json" && cmd.format != "junit") {
                out.error = "--format must be table, json or junit, not '" + cmd.format + "'";
                return out;
            }
        } else if (arg == "--save" && cmd.kind == CliCommand::Kind::check) {
            if (!value(cmd.save)) return out;
        } else if (arg == "--baseline" && cmd.kind == CliCommand::Kind::check) {
            if (!value(cmd.baseline)) return out;
        } else {
            out.error = "unknown option '" + args[i] + "' for '" + first + "'";
            return out;
        }
    }
    if (cmd.config.empty()) {
        out.error = "'" + first + "' needs --config FILE";
        return out;
    }
    out.command = cmd;
    return out;
}

}  // namespace fedprobe
