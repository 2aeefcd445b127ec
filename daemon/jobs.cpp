#include "daemon/jobs.hpp"

#include <algorithm>

namespace fedprobe {

ProbeRequest request_for(const Config& config, const Target& t, const ProbeSpec& spec) {
    const std::string& site = config.settings.site;
    ProbeRequest r;
    r.destination = t.address_for(site);
    r.timeout = t.timeout;
    r.send = t.send;
    r.icmp = t.icmp;
    const Service* service = spec.service.empty() ? nullptr : &config.services.at(spec.service);
    if (service) r.port = service->port;
    if (spec.kind == "dns") {
        if (!service)
            r.port = 53;
        else
            r.dns_tcp = service->transport == Transport::tcp;
        r.dns_query = *t.dns;
        r.dns_expected = t.dns->answers_for(site);
    }
    if (spec.kind == "udp") {
        r.payload = t.udp.payload.empty() ? "fedprobe probe from " + site : t.udp.payload;
        r.udp_expect = t.udp.expect;
    }
    if (spec.kind == "http") {
        r.http = t.http;
        r.ca_file = t.http.ca_file.empty() ? config.settings.ca_file : t.http.ca_file;
        r.user_agent = std::string("fedprobe/") + FEDPROBE_VERSION + " (site " + site + ")";
        r.url = http_url_for(t.http, r.destination, service);
        std::string why;  // the loader has reported a url that does not parse
        r.url_parts = parse_http_url(r.url, why).value_or(HttpUrl{});
    }
    return r;
}

std::string http_url_for(const HttpOptions& http, const IpAddress& address,
                         const Service* service) {
    if (!service) return http.url;
    bool tls = http.tls.value_or(service->port != 80 && service->port != 8080);
    std::string host = http.host.empty() ? address.host_str() : http.host;
    return std::string(tls ? "https" : "http") + "://" + host + ":" +
           std::to_string(service->port) + http.path;
}

std::vector<Job> build_jobs(const Config& config) {
    std::vector<Job> jobs;
    const std::string& site = config.settings.site;
    for (const Target& t : config.targets) {
        if (!t.enabled || !t.probed_from(site)) continue;
        for (const ProbeSpec& spec : t.probes) {
            Job job;
            job.key = t.id + "/" + spec.str();
            job.target = &t;
            job.spec = spec;
            job.labels = t.labels;
            job.labels["site"] = site;
            job.labels["network"] = t.network;
            job.labels["target"] = t.id;
            job.labels["probe"] = spec.kind;
            job.labels["service"] = spec.service;
            job.request = request_for(config, t, spec);
            jobs.push_back(std::move(job));
        }
    }
    auto flows = build_flow_jobs(config);
    for (auto& f : flows)
        jobs.push_back(std::move(f));
    return jobs;
}

std::vector<Job> build_flow_jobs(const Config& config, const std::string& pattern) {
    std::vector<Job> jobs;
    const std::string& site = config.settings.site;
    for (const Flow& flow : config.flows) {
        if (std::find(flow.from.begin(), flow.from.end(), site) == flow.from.end()) continue;
        if (!pattern.empty() && flow.id.find(pattern) == std::string::npos) continue;
        const Service& service = config.services.at(flow.service);
        for (const Target& t : config.targets) {
            if (flow.to_network ? t.network != flow.to : t.id != flow.to) continue;
            Job job;
            job.key = "flow:" + flow.id + "/" + t.id;
            job.target = &t;
            job.flow = &flow;
            job.spec = ProbeSpec{service.transport == Transport::tcp ? "tcp" : "udp", flow.service};
            job.labels = {{"site", site},
                          {"flow", flow.id},
                          {"from", site},
                          {"to", t.id},
                          {"network", t.network},
                          {"service", flow.service},
                          {"expect", flow.expect == Expectation::allow ? "allow" : "deny"}};
            job.request = request_for(config, t, job.spec);
            // A flow asks whether the path is open: any reply will do, whatever the target's
            // udp.expect says about the answer its own service gives.
            job.request.udp_expect.clear();
            jobs.push_back(std::move(job));
        }
    }
    return jobs;
}

}  // namespace fedprobe
