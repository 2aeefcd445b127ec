// Reading a federation file: the parts are read_networks.cpp ([[networks]], [services],
// [fedprobe]), read_targets.cpp (with each probe kind's own parser) and read_flows.cpp.
#include "federation/loader.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <new>

#include "config/config_file.hpp"
#include "federation/load_context.hpp"

namespace fedprobe {

bool Target::probed_from(const std::string& site) const {
    const auto& sites = from_sites();
    return sites.empty() || std::find(sites.begin(), sites.end(), site) != sites.end();
}

const Target* Config::target(const std::string& id) const {
    for (const auto& t : targets)
        if (t.id == id) return &t;
    return nullptr;
}

const Network* Config::network(const std::string& id) const {
    for (const auto& n : networks)
        if (n.id == id) return &n;
    return nullptr;
}

double Config::rate_limit_for(const std::string& network_id) const {
    const Network* n = network(network_id);
    return n && n->rate_limit ? *n->rate_limit : settings.rate_limit;
}

namespace {

std::string sha256_hex(std::string_view bytes) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : digest) {
        out += kHex[b >> 4];
        out += kHex[b & 15];
    }
    return out;
}

}  // namespace

LoadResult load_config_text(std::string_view text, const std::string& path,
                            const std::optional<std::string>& site_override) {
    TomlReader reader(path);
    Config cfg;
    cfg.path = path;
    cfg.sha256 = sha256_hex(text);
    try {
        toml::table root = toml::parse(text, path);
        LoadContext c{reader, cfg, site_override, {}, {}, {}, {}};
        reader.check_keys(root, {"fedprobe", "networks", "services", "targets", "flows"},
                          "the top level");
        read_networks(c, root);
        read_services(c, root);
        read_settings(c, root);
        read_targets(c, root);
        read_flows(c, root);
    } catch (const toml::parse_error& e) {
        reader.error(e.source(), std::string(e.description()));
    } catch (const std::bad_alloc&) {
        // toml++ is a library edge: a file within the size limit can still need more memory
        // than an address-space limit allows. That is this file's error, not a crash.
        reader.error_unlocated("not enough memory to read the file (" +
                               std::to_string(text.size()) + " bytes)");
    }
    LoadResult result;
    result.diagnostics = reader.take();
    if (!has_errors(result.diagnostics))
        result.config = std::make_shared<const Config>(std::move(cfg));
    return result;
}
LoadResult load_config_file(const std::string& path,
                            const std::optional<std::string>& site_override,
                            const ConfigTrust& trust) {
    auto text = read_config_file(path);
    if (!text.ok())
        return LoadResult{
            nullptr,
            {Diagnostic{Diagnostic::Severity::error, path, 0, 0, text.status().message()}}};
    // The bytes verified are the bytes parsed: the file is read once.
    if (Status st = verify_config_signature(path, *text, trust); !st.ok())
        return LoadResult{nullptr,
                          {Diagnostic{Diagnostic::Severity::error, path, 0, 0, st.message()}}};
    return load_config_text(*text, path, site_override);
}

}  // namespace fedprobe
