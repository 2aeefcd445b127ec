// fedprobe's entry point: parses the command line and runs the chosen command.
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>

#include "daemon/blame.hpp"
#include "daemon/check.hpp"
#include "daemon/cli.hpp"
#include "daemon/daemon.hpp"
#include "daemon/diff.hpp"
#include "daemon/export.hpp"
#include "daemon/logging.hpp"
#include "daemon/mesh.hpp"
#include "daemon/passive.hpp"
#include "daemon/trace.hpp"
#include "federation/loader.hpp"

namespace {

fedprobe::ConfigTrust trust_of(const fedprobe::CliCommand& cmd) {
    return fedprobe::ConfigTrust{cmd.trusted_keys, cmd.signatures > 0 ? cmd.signatures : 1};
}

int validate(const fedprobe::CliCommand& cmd) {
    auto result = fedprobe::load_config_file(cmd.config, cmd.site, trust_of(cmd));
    for (const auto& d : result.diagnostics)
        std::cerr << d.format() << "\n";
    if (!result.config) {
        std::size_t errors = 0;
        for (const auto& d : result.diagnostics)
            errors += d.severity == fedprobe::Diagnostic::Severity::error;
        std::cerr << cmd.config << ": " << errors << " error(s)\n";
        return 1;
    }
    const auto& c = *result.config;
    std::size_t probes = 0;
    for (const auto& t : c.targets)
        if (t.enabled && t.probed_from(c.settings.site)) probes += t.probes().size();
    std::cout << cmd.config << ": valid: " << c.networks.size() << " networks, "
              << c.services.size() << " services, " << c.targets.size() << " targets; site '"
              << c.settings.site << "' runs " << probes << " probes";
    if (c.settings.capture) {
        std::cout << " and captures handshakes on";
        for (const auto& itf : c.settings.capture->interfaces)
            std::cout << " " << itf;
    }
    std::cout << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    auto parsed = fedprobe::parse_cli(args);
    if (!parsed.command) {
        std::cerr << "fedprobe: " << parsed.error << "\n\n"
                  << fedprobe::help_text(
                         args.empty() ? "" : args[0]);  // unknown names give the overview
        return 2;
    }
    auto cmd = *parsed.command;
    // One federation file serves every appliance; systemd drop-ins set the site this way.
    if (const char* env_site = std::getenv("FEDPROBE_SITE"); !cmd.site && env_site && *env_site)
        cmd.site = env_site;
    // The unit's environment (/etc/default/fedprobe) turns signed config on for run and
    // validate alike, so a validate before a reload checks what the daemon will.
    if (const char* env_keys = std::getenv("FEDPROBE_TRUSTED_KEYS");
        cmd.trusted_keys.empty() && env_keys && *env_keys &&
        (cmd.kind == fedprobe::CliCommand::Kind::run ||
         cmd.kind == fedprobe::CliCommand::Kind::validate))
        cmd.trusted_keys = env_keys;
    if (cmd.signatures > 0 && cmd.trusted_keys.empty()) {
        std::cerr << "fedprobe: --signatures needs --trusted-keys DIR (or FEDPROBE_TRUSTED_KEYS)\n";
        return 2;
    }
    switch (cmd.kind) {
        case fedprobe::CliCommand::Kind::help:
            std::cout << fedprobe::help_text(cmd.subcommand);
            return 0;
        case fedprobe::CliCommand::Kind::version:
            std::cout << "fedprobe " << FEDPROBE_VERSION << "\n";
            return 0;
        case fedprobe::CliCommand::Kind::validate:
            return validate(cmd);
        case fedprobe::CliCommand::Kind::check:
            return fedprobe::run_check({cmd.config, cmd.site, cmd.flow_pattern, cmd.format,
                                        cmd.save, cmd.baseline, cmd.trace_blocked, cmd.mtu});
        case fedprobe::CliCommand::Kind::trace:
            return fedprobe::run_trace({cmd.config, cmd.site, cmd.target, cmd.service, cmd.method,
                                        cmd.flows, cmd.mtu, cmd.format});
        case fedprobe::CliCommand::Kind::export_:
            return fedprobe::run_export({cmd.config, cmd.site, cmd.out, cmd.password_file});
        case fedprobe::CliCommand::Kind::mesh:
            return fedprobe::run_mesh(
                {cmd.config, cmd.site, cmd.reference, cmd.scrapes, cmd.format});
        case fedprobe::CliCommand::Kind::blame:
            return fedprobe::run_blame(
                {cmd.config, cmd.site, cmd.sources, cmd.prometheus, cmd.format, cmd.serve});
        case fedprobe::CliCommand::Kind::diff:
            return fedprobe::run_diff({cmd.files[0], cmd.files[1], cmd.site, cmd.format});
        case fedprobe::CliCommand::Kind::passive:
            return fedprobe::run_passive({cmd.config, cmd.site, cmd.read, cmd.format});
        case fedprobe::CliCommand::Kind::run: {
            if (!fedprobe::setup_logging(cmd.log_level)) {
                std::cerr << "fedprobe: unknown log level '" << cmd.log_level << "'\n";
                return 2;
            }
            fedprobe::Daemon daemon(cmd.config, cmd.site, trust_of(cmd));
            return daemon.run();
        }
    }
    return 2;
}
