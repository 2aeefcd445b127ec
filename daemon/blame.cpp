#include "daemon/blame.hpp"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>

#include <nlohmann/json.hpp>

#include "config/config_file.hpp"
#include "config/diagnostic.hpp"
#include "exporters/web_health.hpp"
#include "exporters/web_routes.hpp"
#include "exporters/web_server.hpp"
#include "federation/loader.hpp"
#include "federation/network_index.hpp"
#include "policy/blame_evidence.hpp"

namespace fedprobe {

namespace {

// A scrape of 10,000 targets is about 14 MB; four times that is no appliance's.
constexpr std::size_t kMaxSource = 64u << 20;

struct Body {
    std::string text;
    bool too_big = false;
};

std::size_t on_data(char* data, std::size_t size, std::size_t n, void* user) {
    auto* body = static_cast<Body*>(user);
    if (body->text.size() + size * n > kMaxSource) {
        body->too_big = true;
        return 0;  // ends the transfer
    }
    body->text.append(data, size * n);
    return size * n;
}

Result<std::string> fetch_url(const std::string& url) {
    CURL* curl = curl_easy_init();
    if (!curl) return Status::error(url + ": cannot start libcurl");
    Body body;
    char error[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
    const CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (body.too_big)
        return Status::error(url + ": the answer is larger than " +
                             std::to_string(kMaxSource >> 20) + " MiB");
    if (rc != CURLE_OK)
        return Status::error(url + ": " + (error[0] ? error : curl_easy_strerror(rc)));
    if (status >= 400) return Status::error(url + ": HTTP status " + std::to_string(status));
    return body.text;
}

Result<std::string> read_source_file(const std::string& path) {
    if (path == "-") return read_bounded(std::cin, kMaxSource, "stdin");
    auto text = read_config_file(path, kMaxSource, "a scrape");
    if (!text.ok()) return Status::error(path + ": " + text.status().message());
    return text;
}

bool is_url(const std::string& s) {
    return s.starts_with("http://") || s.starts_with("https://");
}

std::string url_escape(const std::string& s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

// The site a URL source stands for, when it is a network's declared appliance endpoint.
std::string site_of_url(const Config& config, const std::string& url) {
    for (const auto& n : config.networks)
        if (n.appliance && url.find("//" + n.appliance->str() + "/") != std::string::npos)
            return n.id;
    return "";
}

nlohmann::ordered_json hop_json(const std::optional<HopSeen>& h) {
    if (!h) return nullptr;
    return {{"ttl", h->ttl}, {"address", h->address}, {"network", h->network}};
}

std::string cell(const std::optional<HopSeen>& h) {
    if (!h) return "-";
    if (h->address.empty()) return "no hop answered";
    return h->address + (h->network.empty() ? "" : " (" + h->network + ")") +
           (h->ttl > 0 ? ", hop " + std::to_string(h->ttl) : "");
}

// The verdict series' `where`: the hop after which the flow dies (a black hole's, for mtu), else
// the place its segment names. One series per flow and source, replaced as the verdict changes.
std::string where_label(const Fault& f) {
    if (f.hop) return (f.segment == Segment::return_ ? "on the way back, " : "") + cell(f.hop);
    switch (f.segment) {
        case Segment::application:
            return "the application at " + f.to + ", past the handshake";
        case Segment::dns:
            return "the resolver " + f.to;
        case Segment::idle:
            return "idle sessions to " + f.to;
        default:
            return "";
    }
}

}  // namespace

Result<std::vector<Sample>> samples_from_prometheus_json(const std::string& body,
                                                         const std::string& source) {
    nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return Status::error(source + ": the answer is not JSON: " + quote_excerpt(body));
    if (j.value("status", "") != "success")
        return Status::error(source + ": Prometheus answered " +
                             quote_excerpt(j.value("error", j.value("status", "?"))));
    const auto data = j.find("data");
    if (data == j.end() || !data->is_object() || data->value("resultType", "") != "vector" ||
        !data->contains("result") || !(*data)["result"].is_array())
        return Status::error(source + ": the answer is not an instant vector");
    std::vector<Sample> out;
    for (const auto& r : (*data)["result"]) {
        if (!r.is_object() || !r.contains("metric") || !r["metric"].is_object() ||
            !r.contains("value") || !r["value"].is_array() || r["value"].size() != 2 ||
            !r["value"][1].is_string())
            return Status::error(source +
                                 ": a result is not {metric, value}: " + quote_excerpt(r.dump()));
        Sample s;
        for (const auto& [k, v] : r["metric"].items()) {
            if (!v.is_string()) return Status::error(source + ": label " + k + " is not a string");
            if (k == "__name__")
                s.name = v.get<std::string>();
            else
                s.labels.emplace_back(k, v.get<std::string>());
        }
        const std::string v = r["value"][1].get<std::string>();
        auto parsed = read_exposition("x " + v, "", source);
        if (!parsed.ok() || parsed->size() != 1)
            return Status::error(source + ": the value " + quote_excerpt(v) + " is not a number");
        s.value = (*parsed)[0].value;
        out.push_back(std::move(s));
    }
    return out;
}

std::string blame_json(const std::vector<Fault>& faults, const std::vector<std::string>& errors) {
    nlohmann::ordered_json doc;
    doc["version"] = 1;
    doc["source_errors"] = errors;
    doc["faults"] = nlohmann::ordered_json::array();
    for (const auto& f : faults) {
        nlohmann::ordered_json r;
        r["flow"] = f.flow;
        r["from"] = f.from;
        r["to"] = f.to;
        r["to_network"] = f.to_network;
        r["service"] = f.service;
        r["expect"] = f.expect;
        r["state"] = f.state;
        r["segment"] = to_string(f.segment);
        r["owner"] = f.owner;
        r["hop"] = hop_json(f.hop);
        r["forward_networks"] = f.forward_networks;
        r["return_networks"] = f.return_networks ? nlohmann::ordered_json(*f.return_networks)
                                                 : nlohmann::ordered_json(nullptr);
        r["evidence"] = f.evidence;
        if (!f.reason.empty()) r["reason"] = f.reason;
        doc["faults"].push_back(std::move(r));
    }
    return doc.dump(2) + "\n";
}

std::string blame_table(const std::vector<Fault>& faults, const std::vector<std::string>& errors) {
    std::string out;
    if (!errors.empty())
        out += "PARTIAL: " + std::to_string(errors.size()) +
               " source(s) could not be read; flows they would speak for are not judged\n";
    if (faults.empty())
        return out + (errors.empty() ? "every flow does what the policy expects\n"
                                     : "no broken flow among the evidence read\n");
    char line[512];
    std::snprintf(line, sizeof line, "%-28s %-13s %-16s %-8s %-12s %-14s %s\n", "FLOW", "FROM",
                  "TO", "SERVICE", "SEGMENT", "OWNER", "WHERE");
    out += line;
    for (const auto& f : faults) {
        std::snprintf(line, sizeof line, "%-28s %-13s %-16s %-8s %-12s %-14s %s\n", f.flow.c_str(),
                      f.from.c_str(), f.to.c_str(), f.service.c_str(), to_string(f.segment),
                      f.owner.c_str(), cell(f.hop).c_str());
        out += line;
        if (!f.reason.empty()) out += "    unknown: " + f.reason + "\n";
        for (const auto& e : f.evidence)
            out += "    - " + e + "\n";
    }
    return out;
}

namespace {

struct Gathered {
    std::vector<ApplianceEvidence> appliances;
    std::vector<std::string> errors;  // a source that could not be read, and why
    std::size_t samples = 0;
};

// Every source's evidence, one after the other; a source that fails is an error and, where its
// site is known, that appliance's missing evidence.
Gathered gather(const Config& config, const BlameOptions& o) {
    Gathered g;
    auto failed = [&](const std::string& site, const std::string& why) {
        g.errors.push_back(why);
        if (site.empty()) return;
        for (auto& a : g.appliances)
            if (a.site == site) return;
        g.appliances.push_back(ApplianceEvidence::unanswered(site, why));
    };
    std::vector<Sample> samples;
    if (!o.prometheus.empty()) {
        std::string names;
        for (const auto& n : blame_metric_names())
            names += (names.empty() ? "" : "|") + n;
        std::string base = o.prometheus;
        while (base.ends_with("/"))
            base.pop_back();
        const std::string url =
            base + "/api/v1/query?query=" + url_escape("{__name__=~\"" + names + "\"}");
        auto body = fetch_url(url);
        if (!body.ok()) {
            failed("", body.status().message());
        } else if (auto got = samples_from_prometheus_json(*body, o.prometheus); !got.ok()) {
            failed("", got.status().message());
        } else {
            samples.insert(samples.end(), got->begin(), got->end());
        }
    }
    for (const auto& source : o.sources) {
        const std::string site = is_url(source) ? site_of_url(config, source) : "";
        auto text = is_url(source) ? fetch_url(source) : read_source_file(source);
        if (!text.ok()) {
            failed(site, text.status().message());
            continue;
        }
        auto got = read_exposition(*text, "fedprobe_", source == "-" ? "stdin" : source,
                                   &blame_metric_names());
        if (!got.ok()) {
            failed(site, got.status().message());
            continue;
        }
        samples.insert(samples.end(), got->begin(), got->end());
    }
    g.samples = samples.size();
    add_evidence(samples, g.appliances);
    // A network with an appliance that no source spoke for: what it would say is missing.
    for (const auto& n : config.networks) {
        if (!n.appliance && !n.appliance_address) continue;
        bool have = false;
        for (const auto& a : g.appliances)
            have = have || a.site == n.id;
        if (!have)
            g.appliances.push_back(ApplianceEvidence::unanswered(n.id, "no source spoke for it"));
    }
    // Evidence from a site the file does not declare is not this federation's.
    for (const auto& a : g.appliances)
        if (a.answered && !config.network(a.site))
            g.errors.push_back("the evidence names site " + quote_excerpt(a.site) + ", which " +
                               o.config + " does not declare");
    std::erase_if(g.appliances,
                  [&](const ApplianceEvidence& a) { return !config.network(a.site); });
    return g;
}

std::string escape_label(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

// What the verdicts need of the federation file: whose links the addresses are on.
BlameSettings settings_of(const Config& config) {
    auto index = std::make_shared<NetworkIndex>(network_index_for_site(config));
    BlameSettings s;
    s.link_network = [index](const std::string& address) -> std::string {
        auto ip = IpAddress::parse(address);
        return ip ? index->lookup_link(*ip) : "unknown";
    };
    return s;
}

// --serve: the verdicts of one gathering, for every scrape.
class VerdictServer {
  public:
    VerdictServer(const Config& config, const BlameOptions& o) : config_(config), options_(o) {}
    void write(std::string& out) {
        // One gathering at a time: two scrapers at once must not ask every appliance twice.
        std::lock_guard lock(mutex_);
        const auto start = std::chrono::steady_clock::now();
        Gathered g = gather(config_, options_);
        const auto faults =
            blame(g.appliances, static_cast<double>(std::time(nullptr)), settings_of(config_));
        const double took =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        out += blame_exposition(faults, g.appliances, took, g.errors.size());
    }

  private:
    const Config& config_;
    const BlameOptions& options_;
    std::mutex mutex_;
};

int serve(const Config& config, const BlameOptions& o) {
    const auto listen = Endpoint::parse(o.serve);
    if (!listen || listen->port == 0) {
        std::cerr << "fedprobe blame: --serve " << quote_excerpt(o.serve)
                  << " is not ADDRESS:PORT (e.g. 127.0.0.1:9642)\n";
        return 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) {
        std::cerr << "fedprobe blame: cannot block signals: " << std::strerror(errno) << "\n";
        return 1;
    }
    VerdictServer server(config, o);
    const MetricsWriter metrics = [&server](std::string& out) { server.write(out); };
    WebHealth health(std::chrono::seconds(10));
    health.beat();
    health.set_ready(true);
    set_web_health(&health, nullptr, nullptr, &metrics);
    auto web = WebServer::start(*listen, std::nullopt, {});
    if (!web.ok()) {
        set_web_health(nullptr, nullptr);
        std::cerr << "fedprobe blame: " << web.status().message() << "\n";
        return 1;
    }
    std::cerr << "fedprobe blame: verdicts on http://" << listen->str() << "/metrics\n";
    const timespec second{1, 0};
    int signal = -1;
    while (signal < 0) {
        health.beat();
        signal = sigtimedwait(&set, nullptr, &second);
        if (signal < 0 && errno != EAGAIN && errno != EINTR) {
            std::cerr << "fedprobe blame: sigtimedwait: " << std::strerror(errno) << "\n";
            break;
        }
    }
    web->reset();
    set_web_health(nullptr, nullptr);
    std::cerr << "fedprobe blame: stopped\n";
    return 0;
}

}  // namespace

std::string blame_exposition(const std::vector<Fault>& faults,
                             const std::vector<ApplianceEvidence>& appliances, double seconds,
                             std::size_t source_errors) {
    std::string out;
    out +=
        "# HELP fedprobe_federation_fault_info A flow that does not do what the policy expects: "
        "the segment where it breaks and the network that owns it, from both ends' evidence; "
        "where: the hop after which it dies, or what its segment names\n"
        "# TYPE fedprobe_federation_fault_info gauge\n";
    for (const auto& f : faults) {
        out += "fedprobe_federation_fault_info{flow=\"" + escape_label(f.flow) + "\",from_site=\"" +
               escape_label(f.from) + "\",to=\"" + escape_label(f.to) + "\",to_network=\"" +
               escape_label(f.to_network) + "\",service=\"" + escape_label(f.service) +
               "\",segment=\"" + to_string(f.segment) + "\",owner=\"" + escape_label(f.owner) +
               "\",where=\"" + escape_label(where_label(f)) + "\"} 1\n";
    }
    out +=
        "# HELP fedprobe_federation_evidence_up 1 when the site's appliance gave its evidence, 0 "
        "when it did not (verdicts that need it are unknown)\n"
        "# TYPE fedprobe_federation_evidence_up gauge\n";
    for (const auto& a : appliances)
        out += "fedprobe_federation_evidence_up{site=\"" + escape_label(a.site) + "\"} " +
               (a.answered ? "1" : "0") + "\n";
    char buf[320];
    std::snprintf(buf, sizeof buf,
                  "# HELP fedprobe_federation_evaluation_seconds How long gathering the evidence "
                  "and judging it took\n"
                  "# TYPE fedprobe_federation_evaluation_seconds gauge\n"
                  "fedprobe_federation_evaluation_seconds %.6f\n",
                  seconds);
    out += buf;
    out +=
        "# HELP fedprobe_federation_source_errors Sources that could not be read in the last "
        "evaluation\n"
        "# TYPE fedprobe_federation_source_errors gauge\n"
        "fedprobe_federation_source_errors " +
        std::to_string(source_errors) + "\n";
    return out;
}

int run_blame(const BlameOptions& o) {
    LoadResult loaded = load_config_file(o.config, o.site);
    for (const auto& d : loaded.diagnostics)
        if (d.severity == Diagnostic::Severity::error) std::cerr << d.format() << "\n";
    if (!loaded.config) return 2;
    const Config& config = *loaded.config;
    if (!o.serve.empty()) return serve(config, o);

    const auto started = std::chrono::steady_clock::now();
    const Gathered g = gather(config, o);
    for (const auto& e : g.errors)
        std::cerr << "fedprobe blame: " << e << "\n";
    const auto gathered = std::chrono::steady_clock::now();
    const auto faults =
        blame(g.appliances, static_cast<double>(std::time(nullptr)), settings_of(config));
    const auto judged = std::chrono::steady_clock::now();
    std::cout << (o.format == "json" ? blame_json(faults, g.errors) : blame_table(faults, g.errors))
              << std::flush;
    int answered = 0;
    for (const auto& a : g.appliances)
        answered += a.answered ? 1 : 0;
    using ms = std::chrono::duration<double, std::milli>;
    std::fprintf(stderr,
                 "fedprobe blame: %d appliances answered, %zu samples gathered in %.1f ms, "
                 "judged in %.1f ms\n",
                 answered, g.samples, ms(gathered - started).count(),
                 ms(judged - gathered).count());
    if (!g.errors.empty()) return 2;
    return faults.empty() ? 0 : 1;
}

}  // namespace fedprobe
