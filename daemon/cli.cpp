#include "daemon/cli.hpp"

#include <set>
#include <utility>

#include "config/diagnostic.hpp"

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
        return "usage: fedprobe run --config FILE [--site ID] [--log-level LEVEL]\n"
               "                    [--trusted-keys DIR [--signatures N]]\n\n"
               "Runs the monitoring daemon in the foreground (systemd Type=notify). It probes the\n"
               "targets of the federation file from this appliance's site and serves Prometheus\n"
               "metrics on [fedprobe] listen. SIGHUP reloads the file; an invalid file is "
               "rejected\n"
               "and the running config kept. SIGTERM or SIGINT stops it.\n\n"
               "  -c, --config FILE     the federation file (TOML)\n"
               "  -s, --site ID         this appliance's network; overrides FEDPROBE_SITE and\n"
               "                        [fedprobe] site\n"
               "  -l, --log-level LVL   trace, debug, info (default), warn, error\n"
               "      --trusted-keys DIR  run the file (at start and on reload) only when\n"
               "                        FILE.sig (or FILE.sig.d/*.sig) holds Ed25519 signatures\n"
               "                        of its bytes by keys in DIR (*.pem public keys);\n"
               "                        default FEDPROBE_TRUSTED_KEYS\n"
               "      --signatures N    distinct keys that must have signed (default 1)\n";
    if (subcommand == "validate")
        return "usage: fedprobe validate --config FILE [--site ID]\n"
               "                         [--trusted-keys DIR [--signatures N]]\n\n"
               "Checks the federation file and prints every problem as FILE:LINE:COLUMN: message.\n"
               "Exits 0 when valid (warnings allowed), 1 when not, 2 on a wrong command line.\n\n"
               "  -c, --config FILE     the federation file (TOML)\n"
               "  -s, --site ID         check as this site; overrides [fedprobe] site\n"
               "      --trusted-keys DIR  also check its signatures, as run does\n"
               "      --signatures N    distinct keys that must have signed (default 1)\n";
    if (subcommand == "check")
        return "usage: fedprobe check --config FILE [--site ID] [--flow PATTERN] [--format "
               "table|json|junit]\n"
               "                      [--save FILE] [--baseline FILE] [--no-trace] [--mtu]\n\n"
               "Runs the policy's flows that start from this site once, in parallel within the "
               "rate\n"
               "limit, and reports each flow's expectation, outcome, verdict and the device that\n"
               "answered. Exits 0 when every flow complies, 1 when one does not, 2 on a usage or\n"
               "config error. With --baseline, compares with a saved run and exits 1 only for "
               "flows\n"
               "that are newly non-compliant: run it before and after a change window. An allow\n"
               "flow dropped silently is traced (path:SERVICE) to name the last hop that "
               "answered.\n\n"
               "  -c, --config FILE     the federation file (TOML)\n"
               "  -s, --site ID         this appliance's network; overrides FEDPROBE_SITE and\n"
               "                        [fedprobe] site\n"
               "  -f, --flow PATTERN    only flows whose id contains PATTERN\n"
               "      --format FMT      table (default), json (schema version 1) or junit\n"
               "      --save FILE       also write the JSON result to FILE\n"
               "      --baseline FILE   compare with a JSON result saved earlier\n"
               "      --no-trace        do not trace flows found filtered (no raw sockets "
               "needed)\n"
               "      --mtu             also trace the allowed flows that work (path:SERVICE)\n"
               "                        and search their path MTU: a black hole or a smaller\n"
               "                        MTU after a change shows here (CAP_NET_RAW)\n";
    if (subcommand == "trace")
        return "usage: fedprobe trace --config FILE [--site ID] TARGET [--service NAME]\n"
               "                      [--method udp|icmp|tcp] [--flows N] [--mtu]\n"
               "                      [--format table|json]\n\n"
               "Runs one Paris traceroute round from this appliance and prints every hop with the\n"
               "network it belongs to, and why the trace stopped. TARGET is a target id (traced "
               "at\n"
               "its address as seen from this site, with its [targets.path] options) or an "
               "address.\n"
               "Needs CAP_NET_RAW. Exits 0 when the destination was reached, 1 when not, 2 on a\n"
               "usage or config error.\n\n"
               "  -c, --config FILE     the federation file (TOML): networks attribute the hops\n"
               "  -s, --site ID         this appliance's network; overrides FEDPROBE_SITE and\n"
               "                        [fedprobe] site\n"
               "      --service NAME    trace with that service's transport and port (path:NAME)\n"
               "      --method M        udp (default), icmp or tcp, without --service\n"
               "      --flows N         trace N flows (1-16) and count the distinct paths (ECMP)\n"
               "      --mtu             then search the path MTU and locate a black hole (as\n"
               "                        path.mtu does; the target's own path.mtu does it too)\n"
               "      --format FMT      table (default) or json (every attempt)\n";
    if (subcommand == "passive")
        return "usage: fedprobe passive --config FILE [--site ID] --read CAPTURE\n"
               "                        [--format table|json]\n\n"
               "Reads a capture file (pcap or pcapng, e.g. from tcpdump or a firewall team) and\n"
               "counts its TCP handshakes per (src_network, dst_network, service) by how they\n"
               "ended: ok, refused (RST), filtered (no answer within [fedprobe.capture]\n"
               "handshake_timeout, 3s by default), prohibited or unreachable (an ICMP error\n"
               "quoting the SYN), and retried (the SYN was sent again, then answered). Networks\n"
               "come from the federation's prefixes, services from [services] by port. Only\n"
               "headers are read. Exits 0 when the file was read, 1 when it could not be (the\n"
               "reason on stderr), 2 on a usage or config error.\n\n"
               "  -c, --config FILE     the federation file (TOML)\n"
               "  -s, --site ID         where two networks share space (10/8 behind NAT), count\n"
               "                        it as this site's; overrides [fedprobe] site\n"
               "  -r, --read CAPTURE    the capture file\n"
               "      --format FMT      table (default) or json (schema version 1)\n";
    if (subcommand == "export")
        return "usage: fedprobe export prometheus --config FILE --out DIR [--site ID]\n"
               "                        [--password-file PATH]\n\n"
               "Writes what the federation's central Prometheus and Alertmanager need, from the\n"
               "same federation file the appliances run: DIR/targets/fedprobe.json (file_sd: each\n"
               "network's [[networks]] appliance address, labelled with its site; a network\n"
               "without one is left out, with a warning), DIR/prometheus.yml (scraping them with\n"
               "basic auth), DIR/rules/ (the alerting and recording rules) and\n"
               "DIR/alertmanager.yml (routes to the organisation that owns the failing side,\n"
               "inhibitions). Exits 0 when written, 1 on a config error (located, as validate)\n"
               "or a file that cannot be written, 2 on a wrong command line.\n\n"
               "  -c, --config FILE         the federation file (TOML)\n"
               "  -s, --site ID             read the file as this site (any will do)\n"
               "  -o, --out DIR             the directory to write into\n"
               "      --password-file PATH  the scrape password's file on the Prometheus host\n"
               "                            (default /etc/prometheus/fedprobe.password)\n";
    if (subcommand == "blame")
        return "usage: fedprobe blame --config FILE [--format table|json] [--prometheus URL]\n"
               "                      [--serve ADDR] [SOURCE...]\n\n"
               "Joins the evidence of every appliance (each SOURCE an appliance's scrape URL,\n"
               "http://HOST:9641/metrics, or a file of its /metrics text, or - for stdin; or\n"
               "--prometheus URL, the central Prometheus's HTTP API, which Thanos and Mimir serve\n"
               "too) and names, for every flow of the policy that does not do what the policy\n"
               "expects, the segment where it breaks (source, transit, destination, return,\n"
               "application, mtu, idle, dns, or unknown with the reason) and the [[networks]]\n"
               "id that owns it,\n"
               "with the evidence of both ends. Exits 0 when every flow complies, 1 when one does\n"
               "not, 2 on a usage, config or source error.\n\n"
               "  -c, --config FILE     the federation file (TOML): its networks and appliances\n"
               "  -s, --site ID         read the file as this site\n"
               "      --prometheus URL  ask the central Prometheus (e.g. http://127.0.0.1:9090)\n"
               "      --format FMT      table (default) or json\n"
               "      --serve ADDR      serve the verdicts as Prometheus series on ADDR:PORT\n"
               "                        (/metrics), judged afresh for every scrape, until\n"
               "                        SIGTERM: fedprobe_federation_fault_info per broken flow\n";
    if (subcommand == "diff")
        return "usage: fedprobe diff [--format table|json] OLD NEW\n\n"
               "What changes from one federation file to another, in a change board's terms:\n"
               "the [fedprobe] settings, and each network, service, target and flow added,\n"
               "removed or changed (key by key), listed under each organisation it touches (a\n"
               "target's network, a flow's sources and destination, a service's flows). Both\n"
               "files must validate. Comments, whitespace and order are not changes. Exits 0\n"
               "when the files say the same, 1 when they differ, 2 on a usage or config error.\n\n"
               "  -s, --site ID         read both files as this site (for files without one)\n"
               "      --format FMT      table (default) or json\n";
    if (subcommand == "mesh")
        return "usage: fedprobe mesh --config FILE [--reference SITE] [--format table|prometheus]\n"
               "                     SCRAPE...\n\n"
               "Fits every appliance's clock offset jointly, by least squares, from the STAMP\n"
               "measurements in the appliances' scrapes (each SCRAPE a file of /metrics text, or\n"
               "- for stdin: e.g. every appliance's /metrics, concatenated). Prints each site's\n"
               "offset, each pair's one-way delays with the fitted offsets, and each triangle of\n"
               "sites, whose measured offsets sum to 0 when paths are symmetric. Exits 0 when\n"
               "every loop is within its bound, 1 when one is not (asymmetric paths, or a clock\n"
               "that moved), 2 on a usage, config or scrape error or without measurements.\n\n"
               "  -c, --config FILE     the federation file (TOML): the networks the scrapes name\n"
               "  -s, --site ID         read the file as this site\n"
               "      --reference SITE  the site whose clock is 0 (default: the file's site)\n"
               "      --format FMT      table (default) or prometheus (gauges, e.g. for\n"
               "                        node_exporter's textfile collector)\n";
    return "usage: fedprobe COMMAND [OPTIONS]\n\n"
           "fedprobe probes the other networks of a federation for reachability and firewall\n"
           "behaviour, says why a flow failed and which device stopped it, and exports it all to\n"
           "Prometheus.\n\n"
           "commands:\n"
           "  run        run the monitoring daemon\n"
           "  validate   check a federation file\n"
           "  check      verify the firewall policy's flows once (before/after a change)\n"
           "  trace      trace the path to a target once, hop by hop\n"
           "  passive    count the handshakes in a capture file per pair of networks\n"
           "  export     write the central Prometheus' targets, rules and Alertmanager routes\n"
           "  mesh       fit the appliances' clock offsets from their STAMP measurements\n"
           "  blame      for every broken flow, the segment and the organisation that owns it\n"
           "  diff       what changes between two federation files, by organisation\n\n"
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
        if (args.size() > 2) {
            out.error = first + " takes at most a COMMAND, not " + quote_excerpt(args[2]);
            return out;
        }
        if (args.size() == 2 && args[1] != "run" && args[1] != "validate" && args[1] != "check" &&
            args[1] != "trace" && args[1] != "passive" && args[1] != "export" &&
            args[1] != "mesh" && args[1] != "blame" && args[1] != "diff") {
            out.error = "no help for " + quote_excerpt(args[1]) + ": not a command";
            return out;
        }
        out.command = make(CliCommand::Kind::help, args.size() > 1 ? args[1] : "");
        return out;
    }
    if (first == "--version" || first == "-V" || first == "version") {
        if (args.size() > 1) {
            out.error = first + " takes no arguments, not " + quote_excerpt(args[1]);
            return out;
        }
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
    else if (first == "trace")
        cmd.kind = CliCommand::Kind::trace;
    else if (first == "passive")
        cmd.kind = CliCommand::Kind::passive;
    else if (first == "export")
        cmd.kind = CliCommand::Kind::export_;
    else if (first == "mesh")
        cmd.kind = CliCommand::Kind::mesh;
    else if (first == "blame")
        cmd.kind = CliCommand::Kind::blame;
    else if (first == "diff")
        cmd.kind = CliCommand::Kind::diff;
    else {
        out.error = "unknown command " + quote_excerpt(first);
        return out;
    }
    std::set<std::string> seen;
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
        // Every option once: a second --config (a script's default plus the user's) would
        // otherwise silently win, and the appliance would run a file nobody meant.
        static const std::pair<const char*, const char*> kShort[] = {
            {"-c", "--config"}, {"-s", "--site"}, {"-l", "--log-level"},
            {"-f", "--flow"},   {"-r", "--read"}, {"-o", "--out"}};
        std::string name = arg;
        for (auto [short_name, long_name] : kShort)
            if (arg == short_name) name = long_name;
        if (name.starts_with("-") && !seen.insert(name).second) {
            out.error = "option " + name + " is given more than once";
            return out;
        }
        auto flag = [&] {
            if (!inline_value) return true;
            out.error = "option " + arg + " takes no value";
            return false;
        };
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
        auto from_1_to_16 = [&](int& into) {
            std::string n;
            if (!value(n)) return false;
            if (n.find_first_not_of("0123456789") != std::string::npos || n.size() > 2 ||
                std::stoi(n) < 1 || std::stoi(n) > 16) {
                out.error = arg + " must be a number from 1 to 16, not " + quote_excerpt(n);
                return false;
            }
            into = std::stoi(n);
            return true;
        };
        if ((arg == "--config" || arg == "-c") && cmd.kind != CliCommand::Kind::diff) {
            if (!value(cmd.config)) return out;
        } else if (arg == "--site" || arg == "-s") {
            std::string site;
            if (!value(site)) return out;
            cmd.site = site;
        } else if (arg == "--trusted-keys" &&
                   (cmd.kind == CliCommand::Kind::run || cmd.kind == CliCommand::Kind::validate)) {
            if (!value(cmd.trusted_keys)) return out;
        } else if (arg == "--signatures" &&
                   (cmd.kind == CliCommand::Kind::run || cmd.kind == CliCommand::Kind::validate)) {
            if (!from_1_to_16(cmd.signatures)) return out;
        } else if ((arg == "--log-level" || arg == "-l") && cmd.kind == CliCommand::Kind::run) {
            if (!value(cmd.log_level)) return out;
        } else if ((arg == "--flow" || arg == "-f") && cmd.kind == CliCommand::Kind::check) {
            if (!value(cmd.flow_pattern)) return out;
        } else if (arg == "--format" && cmd.kind == CliCommand::Kind::check) {
            if (!value(cmd.format)) return out;
            if (cmd.format != "table" && cmd.format != "json" && cmd.format != "junit") {
                out.error =
                    "--format must be table, json or junit, not " + quote_excerpt(cmd.format);
                return out;
            }
        } else if (arg == "--format" && cmd.kind == CliCommand::Kind::trace) {
            if (!value(cmd.format)) return out;
            if (cmd.format != "table" && cmd.format != "json") {
                out.error = "--format must be table or json, not " + quote_excerpt(cmd.format);
                return out;
            }
        } else if (arg == "--format" && cmd.kind == CliCommand::Kind::passive) {
            if (!value(cmd.format)) return out;
            if (cmd.format != "table" && cmd.format != "json") {
                out.error = "--format must be table or json, not " + quote_excerpt(cmd.format);
                return out;
            }
        } else if ((arg == "--read" || arg == "-r") && cmd.kind == CliCommand::Kind::passive) {
            if (!value(cmd.read)) return out;
        } else if ((arg == "--out" || arg == "-o") && cmd.kind == CliCommand::Kind::export_) {
            if (!value(cmd.out)) return out;
        } else if (arg == "--password-file" && cmd.kind == CliCommand::Kind::export_) {
            if (!value(cmd.password_file)) return out;
        } else if (cmd.kind == CliCommand::Kind::export_ && !arg.starts_with("-") &&
                   cmd.what.empty()) {
            cmd.what = arg;
            if (cmd.what != "prometheus") {
                out.error =
                    "export writes 'prometheus' (its targets, rules and Alertmanager "
                    "routes), not " +
                    quote_excerpt(cmd.what);
                return out;
            }
        } else if (arg == "--format" && cmd.kind == CliCommand::Kind::mesh) {
            if (!value(cmd.format)) return out;
            if (cmd.format != "table" && cmd.format != "prometheus") {
                out.error =
                    "--format must be table or prometheus, not " + quote_excerpt(cmd.format);
                return out;
            }
        } else if (arg == "--format" && cmd.kind == CliCommand::Kind::diff) {
            if (!value(cmd.format)) return out;
            if (cmd.format != "table" && cmd.format != "json") {
                out.error = "--format must be table or json, not " + quote_excerpt(cmd.format);
                return out;
            }
        } else if (cmd.kind == CliCommand::Kind::diff && !arg.starts_with("-")) {
            if (cmd.files.size() == 2) {
                out.error =
                    "'diff' compares two files, OLD and NEW; a third: " + quote_excerpt(arg);
                return out;
            }
            cmd.files.push_back(arg);
        } else if (arg == "--format" && cmd.kind == CliCommand::Kind::blame) {
            if (!value(cmd.format)) return out;
            if (cmd.format != "table" && cmd.format != "json") {
                out.error = "--format must be table or json, not " + quote_excerpt(cmd.format);
                return out;
            }
        } else if (arg == "--prometheus" && cmd.kind == CliCommand::Kind::blame) {
            if (!value(cmd.prometheus)) return out;
        } else if (arg == "--serve" && cmd.kind == CliCommand::Kind::blame) {
            if (!value(cmd.serve)) return out;
        } else if (cmd.kind == CliCommand::Kind::blame && (arg == "-" || !arg.starts_with("-"))) {
            cmd.sources.push_back(arg);
        } else if (arg == "--reference" && cmd.kind == CliCommand::Kind::mesh) {
            if (!value(cmd.reference)) return out;
        } else if (cmd.kind == CliCommand::Kind::mesh && (arg == "-" || !arg.starts_with("-"))) {
            cmd.scrapes.push_back(arg);
        } else if (arg == "--service" && cmd.kind == CliCommand::Kind::trace) {
            if (!value(cmd.service)) return out;
        } else if (arg == "--method" && cmd.kind == CliCommand::Kind::trace) {
            if (!value(cmd.method)) return out;
            if (cmd.method != "udp" && cmd.method != "icmp" && cmd.method != "tcp") {
                out.error = "--method must be udp, icmp or tcp, not " + quote_excerpt(cmd.method);
                return out;
            }
        } else if (arg == "--flows" && cmd.kind == CliCommand::Kind::trace) {
            if (!from_1_to_16(cmd.flows)) return out;
        } else if (arg == "--mtu" && cmd.kind == CliCommand::Kind::trace) {
            if (!flag()) return out;
            cmd.mtu = true;
        } else if (cmd.kind == CliCommand::Kind::trace && !arg.starts_with("-") &&
                   cmd.target.empty()) {
            cmd.target = arg;
        } else if (arg == "--save" && cmd.kind == CliCommand::Kind::check) {
            if (!value(cmd.save)) return out;
        } else if (arg == "--baseline" && cmd.kind == CliCommand::Kind::check) {
            if (!value(cmd.baseline)) return out;
        } else if (arg == "--no-trace" && cmd.kind == CliCommand::Kind::check) {
            if (!flag()) return out;
            cmd.trace_blocked = false;
        } else if (arg == "--mtu" && cmd.kind == CliCommand::Kind::check) {
            if (!flag()) return out;
            cmd.mtu = true;
        } else {
            out.error = "unknown option " + quote_excerpt(args[i]) + " for '" + first + "'";
            return out;
        }
    }
    if (cmd.kind == CliCommand::Kind::diff) {
        if (cmd.files.size() != 2) {
            out.error = "'diff' needs two federation files: fedprobe diff OLD NEW";
            return out;
        }
    } else if (cmd.config.empty()) {
        out.error = "'" + first + "' needs --config FILE";
        return out;
    }
    if (cmd.kind == CliCommand::Kind::export_ && cmd.what.empty()) {
        out.error = "'export' needs what to write: fedprobe export prometheus ...";
        return out;
    }
    if (cmd.kind == CliCommand::Kind::export_ && cmd.out.empty()) {
        out.error = "'export' needs --out DIR";
        return out;
    }
    if (cmd.kind == CliCommand::Kind::mesh && cmd.scrapes.empty()) {
        out.error = "'mesh' needs at least one SCRAPE: a file of the appliances' /metrics, or -";
        return out;
    }
    if (cmd.kind == CliCommand::Kind::blame && cmd.sources.empty() && cmd.prometheus.empty()) {
        out.error =
            "'blame' needs a SOURCE (an appliance's scrape URL or a file of its /metrics) or "
            "--prometheus URL";
        return out;
    }
    if (cmd.kind == CliCommand::Kind::passive && cmd.read.empty()) {
        out.error = "'passive' needs --read CAPTURE: a pcap or pcapng file";
        return out;
    }
    if (cmd.kind == CliCommand::Kind::trace && cmd.target.empty()) {
        out.error = "'trace' needs a TARGET: a target id or an address";
        return out;
    }
    if (cmd.kind == CliCommand::Kind::trace && !cmd.service.empty() && !cmd.method.empty()) {
        out.error = "--service and --method exclude each other: a service sets the method";
        return out;
    }
    out.command = cmd;
    return out;
}

}  // namespace fedprobe
