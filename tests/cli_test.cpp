#include <doctest/doctest.h>

#include "daemon/cli.hpp"

using namespace fedprobe;

TEST_CASE("run and validate take --config, --site, and = forms") {
    auto p = parse_cli({"run", "--config", "fed.toml", "--site=kent-nhs", "-l", "debug"});
    REQUIRE(p.command);
    CHECK(p.command->kind == CliCommand::Kind::run);
    CHECK(p.command->config == "fed.toml");
    CHECK(*p.command->site == "kent-nhs");
    CHECK(p.command->log_level == "debug");
    auto v = parse_cli({"validate", "-c", "fed.toml"});
    REQUIRE(v.command);
    CHECK(v.command->kind == CliCommand::Kind::validate);
    CHECK_FALSE(v.command->site);
}

TEST_CASE("mistakes are named") {
    CHECK(parse_cli({}).error == "no command given");
    CHECK(parse_cli({"probe"}).error == "unknown command 'probe'");
    CHECK(parse_cli({"run"}).error == "'run' needs --config FILE");
    CHECK(parse_cli({"run", "--config"}).error == "option --config needs a value");
    CHECK(parse_cli({"run", "-c", "f", "--verbose"}).error ==
          "unknown option '--verbose' for 'run'");
    CHECK(parse_cli({"validate", "-c", "f", "--log-level", "info"}).error ==
          "unknown option '--log-level' for 'validate'");
}

TEST_CASE("help and version") {
    CHECK(parse_cli({"--version"}).command->kind == CliCommand::Kind::version);
    auto h = parse_cli({"run", "--help"});
    CHECK(h.command->kind == CliCommand::Kind::help);
    CHECK(help_text(h.command->subcommand).find("usage: fedprobe run") == 0);
    CHECK(help_text("").find("commands:") != std::string::npos);
}

TEST_CASE("check takes --no-trace; other commands refuse it") {
    auto c = parse_cli({"check", "-c", "fed.toml"});
    REQUIRE(c.command);
    CHECK(c.command->trace_blocked);
    c = parse_cli({"check", "-c", "fed.toml", "--no-trace"});
    REQUIRE(c.command);
    CHECK_FALSE(c.command->trace_blocked);
    CHECK(parse_cli({"run", "-c", "f", "--no-trace"}).error ==
          "unknown option '--no-trace' for 'run'");
    CHECK(help_text("check").find("--no-trace") != std::string::npos);
}

TEST_CASE("every option once: a repeated --config is an error, not the last one silently") {
    CHECK(parse_cli({"run", "-c", "a.toml", "--config", "b.toml"}).error ==
          "option --config is given more than once");
    CHECK(parse_cli({"validate", "--config=a.toml", "-c", "b.toml"}).error ==
          "option --config is given more than once");
    CHECK(parse_cli({"run", "-c", "f", "-s", "a", "--site", "b"}).error ==
          "option --site is given more than once");
    CHECK(parse_cli({"check", "-c", "f", "--mtu", "--mtu"}).error ==
          "option --mtu is given more than once");
    CHECK(parse_cli({"check", "-c", "f", "--no-trace=yes"}).error ==
          "option --no-trace takes no value");
}

TEST_CASE("--version and --help take nothing they would ignore") {
    CHECK(parse_cli({"--version", "extra"}).error == "--version takes no arguments, not 'extra'");
    CHECK(parse_cli({"version", "--config", "f"}).error ==
          "version takes no arguments, not '--config'");
    CHECK(parse_cli({"--help", "run"}).command->subcommand == "run");
    CHECK(parse_cli({"--help", "bogus"}).error == "no help for 'bogus': not a command");
    CHECK(parse_cli({"--help", "run", "x"}).error == "--help takes at most a COMMAND, not 'x'");
}

TEST_CASE("arguments are echoed short and escaped") {
    auto e = parse_cli({"run", "-c", "f", std::string(10'000, 'x')}).error;
    CHECK(e.size() < 200);
    CHECK(parse_cli({"run", "-c", "f", "--a\x1b[2J"}).error ==
          "unknown option '--a\\x1b[2J' for 'run'");
}

TEST_CASE("passive takes --read and --format table|json; it needs --read") {
    auto p = parse_cli({"passive", "-c", "fed.toml", "-r", "x.pcap", "--format", "json"});
    REQUIRE(p.command);
    CHECK(p.command->kind == CliCommand::Kind::passive);
    CHECK(p.command->read == "x.pcap");
    CHECK(p.command->format == "json");
    CHECK(parse_cli({"passive", "-c", "fed.toml"}).error ==
          "'passive' needs --read CAPTURE: a pcap or pcapng file");
    CHECK(parse_cli({"passive", "-c", "f", "-r", "x", "--format", "junit"}).error ==
          "--format must be table or json, not 'junit'");
    CHECK(parse_cli({"check", "-c", "f", "--read", "x"}).error ==
          "unknown option '--read' for 'check'");
    CHECK(help_text("passive").find("usage: fedprobe passive") == 0);
}

TEST_CASE("export prometheus takes --out and --password-file; it needs both what and where") {
    auto p = parse_cli(
        {"export", "prometheus", "-c", "fed.toml", "-o", "out", "--password-file", "/run/pw"});
    REQUIRE(p.command);
    CHECK(p.command->kind == CliCommand::Kind::export_);
    CHECK(p.command->what == "prometheus");
    CHECK(p.command->out == "out");
    CHECK(p.command->password_file == "/run/pw");
    CHECK(parse_cli({"export", "-c", "f", "-o", "d"}).error ==
          "'export' needs what to write: fedprobe export prometheus ...");
    CHECK(parse_cli({"export", "prometheus", "-c", "f"}).error == "'export' needs --out DIR");
    CHECK(parse_cli({"export", "grafana", "-c", "f", "-o", "d"}).error ==
          "export writes 'prometheus' (its targets, rules and Alertmanager routes), not 'grafana'");
}
