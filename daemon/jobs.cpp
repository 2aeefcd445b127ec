#include "daemon/jobs.hpp"

#include <algorithm>

namespace fedprobe {

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
            job.request.destination = t.address_for(site);
            job.request.timeout = t.timeout;
            job.request.send = t.send;
            job.request.icmp = t.icmp;
            if (!spec.service.empty()) job.request.port = config.services.at(spec.service).port;
            if (spec.kind == "dns") {
                if (spec.service.empty())
                    job.request.port = 53;
                else
                    job.request.dns_tcp =
                        config.services.at(spec.service).transport == Transport::tcp;
                job.request.dns_query = *t.dns;
                job.request.dns_expected = t.dns->answers_for(site);
            }
            if (spec.kind == "udp") {
                job.request.payload =
                    t.udp.payload.empty() ? "fedprobe probe from " + site : t.udp.payload;
                job.request.udp_expect = t.udp.expect;
            }
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
            job.request.destination = t.address_for(site);
            job.request.port = service.port;
            job.request.timeout = t.timeout;
            job.request.send = t.send;
            if (service.transport == Transport::udp)
                job.request.payload = "fedprobe probe from " + site;
            jobs.push_back(std::move(job));
        }
    }
    return jobs;
}

}  // namespace fedprobe
