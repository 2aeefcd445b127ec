// Shared by the loader's parts (loader.cpp and read_*.cpp): the config being built and the
// reader collecting its diagnostics. Internal to federation/; one loading thread.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "config/toml_reader.hpp"
#include "federation/config.hpp"

namespace fedprobe {

struct LoadContext {
    TomlReader& r;
    Config& cfg;
    std::optional<std::string> site_override;
    std::map<std::string, const toml::node*> network_nodes;  // id -> where it is declared
    Kinds::OptionPools option_pools;  // targets with equal [targets.KIND] tables share one
    BoxPool<std::vector<ProbeSpec>> probe_lists;  // and equal `probes = [...]` lists
    // [[networks]] tables with a valid appliance_address, for the targets derived from them.
    std::vector<const toml::table*> appliance_networks;
};

// [a-z0-9][a-z0-9-]*
bool is_id(const std::string& s);
bool check_id(LoadContext& c, const toml::table& t, const std::string& id,
              const std::string& where);
std::optional<IpAddress> read_address(LoadContext& c, const toml::node& n, const std::string& what);

void read_networks(LoadContext& c, const toml::table& root);
void read_services(LoadContext& c, const toml::table& root);
void read_settings(LoadContext& c, const toml::table& root);
void read_capture(LoadContext& c, const toml::table& fedprobe);
void read_web_tls(LoadContext& c, const toml::table& tls);
void read_stamp_reflector(LoadContext& c, const toml::table& fedprobe);
void read_targets(LoadContext& c, const toml::table& root);
bool read_kind_options(LoadContext& c, const toml::table& t, Target& tg, const std::string& where);
void read_flows(LoadContext& c, const toml::table& root);

}  // namespace fedprobe
