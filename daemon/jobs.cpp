#include "daemon/jobs.hpp"

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
            if (spec.kind == "udp") job.request.payload = "fedprobe probe from " + site;
            jobs.push_back(std::move(job));
        }
    }
    return jobs;
}

}  // namespace fedprobe
