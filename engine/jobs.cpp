#include "engine/jobs.hpp"

#include <algorithm>

namespace fedprobe {

ProbeRequest request_for(const Config& config, const Target& t, const ProbeSpec& spec,
                         bool for_flow, Duration* interval) {
    ProbeRequest r;
    r.destination = t.address_for(config.settings.site);
    r.timeout = t.timeout;
    if (t.send() != SendOptions{}) r.set_send() = t.send();
    const Service* service = spec.service.empty() ? nullptr : &config.services.at(spec.service);
    JobContext context;
    context.site = config.settings.site;
    context.destination = r.destination;
    context.service = service;
    context.port = service ? service->port : 0;
    context.default_ca_file = config.settings.ca_file;
    context.for_flow = for_flow;
    context.interval = t.interval;
    visit_kind(spec.kind, [&]<typename K>() {
        const typename K::Options* options = t.options_for<K>();
        // A flow's application check: the target's own keys, else its service's.
        if (!options && for_flow && service)
            if (auto it = config.service_check_options.find(service->name);
                it != config.service_check_options.end())
                options = std::get<Boxed<typename K::Options>>(it->second).get();
        r.params = K::params(options, context);
    });
    r.port = context.port;
    if (interval) *interval = context.interval;
    return r;
}

Labels Job::labels() const {
    static const std::string kNoSite;
    const std::string& at = site ? *site : kNoSite;
    if (flow)
        return {{"site", at},
                {"flow", flow->id},
                {"from", at},
                {"to", target->id},
                {"network", target->network},
                {"service", flow->service},
                {"expect", flow->expect == Expectation::allow ? "allow" : "deny"}};
    Labels out = target->labels();
    out["site"] = at;
    out["network"] = target->network;
    out["target"] = target->id;
    out["probe"] = std::string(spec->name());
    out["service"] = spec->service;
    return out;
}

std::string Job::key() const {
    return flow ? "flow:" + flow->id + "/" + target->id : target->id + "/" + spec->str();
}

namespace {

// Jobs with equal params (every icmp target with the same options, every tcp job) share one.
void share_params(ProbeRequest& r, std::size_t kind, Kinds::ParamPools& pools) {
    visit_kind(kind, [&]<typename K>() {
        auto& box = std::get<Boxed<typename K::Params>>(r.params);
        box = std::get<kind_index_of<K>()>(pools).intern(std::move(box));
    });
}

}  // namespace

namespace {

bool starts_from(const Flow& flow, const std::string& site) {
    return std::find(flow.from.begin(), flow.from.end(), site) != flow.from.end();
}

bool reaches(const Flow& flow, const Target& t) {
    return flow.to_network ? t.network == flow.to && t.flow_destination : t.id == flow.to;
}

// The first of `denies` (the deny flows from this site) over target t and spec's service.
const Flow* deny_flow_over(const std::vector<const Flow*>& denies, const Target& t,
                           const ProbeSpec& spec) {
    if (spec.service.empty()) return nullptr;
    for (const Flow* flow : denies)
        if (flow->service == spec.service && reaches(*flow, t)) return flow;
    return nullptr;
}

}  // namespace

std::vector<Job> build_jobs(const Config& config) {
    Kinds::ParamPools pools;
    std::vector<Job> jobs;
    const std::string& site = config.settings.site;
    std::vector<const Flow*> denies;
    for (const Flow& flow : config.flows)
        if (flow.expect == Expectation::deny && starts_from(flow, site)) denies.push_back(&flow);
    auto blocks_icmp = [&](const std::string& id) {
        const Network* n = config.network(id);
        return n && n->icmp_blocked;
    };
    const bool site_blocks_icmp = blocks_icmp(site);
    for (const Target& t : config.targets) {
        if (!t.enabled || !t.probed_from(site)) continue;
        const bool target_blocks_icmp = blocks_icmp(t.network);
        for (const ProbeSpec& spec : t.probes()) {
            Job job;
            job.target = &t;
            job.site = &site;
            job.spec = &spec;
            job.denied_by = deny_flow_over(denies, t, spec);
            job.icmp_blocked_at_site = site_blocks_icmp;
            job.icmp_blocked_at_target = target_blocks_icmp;
            job.request = request_for(config, t, spec, false, &job.interval);
            share_params(job.request, spec.kind, pools);
            jobs.push_back(std::move(job));
        }
    }
    auto flows = build_flow_jobs(config);
    for (auto& f : flows)
        jobs.push_back(std::move(f));
    return jobs;
}

std::vector<Job> build_flow_jobs(const Config& config, const std::string& pattern) {
    Kinds::ParamPools pools;
    std::vector<Job> jobs;
    const std::string& site = config.settings.site;
    for (const Flow& flow : config.flows) {
        if (!starts_from(flow, site)) continue;
        if (!pattern.empty() && flow.id.find(pattern) == std::string::npos) continue;
        for (const Target& t : config.targets) {
            if (!reaches(flow, t)) continue;
            Job job;
            job.target = &t;
            job.flow = &flow;
            job.site = &site;
            job.spec = &flow.probe;
            job.request = request_for(config, t, *job.spec, true, &job.interval);
            share_params(job.request, job.spec->kind, pools);
            jobs.push_back(std::move(job));
        }
    }
    return jobs;
}

}  // namespace fedprobe
