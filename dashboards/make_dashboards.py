#!/usr/bin/python3
"""Writes the Grafana dashboards in dashboards/ (run from anywhere; idempotent), or in the
directory given as its argument.

Generated rather than hand-edited so that every panel follows the same rules, which
tests/dashboards.sh checks on the JSON and then against a real Prometheus: the datasource is the
`datasource` variable, every variable comes from label_values(), every panel has a unit, and
every expression returns data in the lab."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DS = {"type": "prometheus", "uid": "${datasource}"}


def variables(*names, base="fedprobe_probe_success"):
    out = [{"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus",
            "current": {}, "hide": 0}]
    selector = ""
    for name in names:
        out.append({
            "name": name, "type": "query", "datasource": DS, "label": name,
            "query": {"query": f"label_values({base}{{{selector}}}, {name})", "refId": name},
            "definition": f"label_values({base}{{{selector}}}, {name})",
            "includeAll": name != "target", "multi": name != "target", "refresh": 2, "sort": 1,
            "current": {}, "hide": 0,
        })
        selector += ("," if selector else "") + f'{name}=~"${name}"'
    return out


def target(expr, legend="", fmt="time_series", instant=False):
    t = {"datasource": DS, "expr": expr, "refId": "A", "legendFormat": legend, "format": fmt}
    if instant:
        t["instant"] = True
        t["range"] = False
    return t


def panel(kind, title, exprs, unit, x, y, w=12, h=8, description="", **extra):
    p = {"type": kind, "title": title, "description": description, "datasource": DS,
         "gridPos": {"x": x, "y": y, "w": w, "h": h},
         "targets": [dict(t, refId=chr(ord("A") + i)) for i, t in enumerate(exprs)],
         "fieldConfig": {"defaults": {"unit": unit}, "overrides": []}, "options": {}}
    p.update(extra)
    return p


def dashboard(uid, title, description, panels, templating):
    for i, p in enumerate(panels):
        p["id"] = i + 1
    return {"uid": uid, "title": title, "description": description, "tags": ["fedprobe"],
            "timezone": "utc", "schemaVersion": 39, "version": 1, "editable": True,
            "refresh": "30s", "time": {"from": "now-6h", "to": "now"},
            "templating": {"list": templating}, "panels": panels,
            "annotations": {"list": []}}


SEL = 'site=~"$site",network=~"$network"'
RED_GREEN = {"mode": "absolute", "steps": [{"color": "red", "value": None},
                                           {"color": "orange", "value": 0.9},
                                           {"color": "green", "value": 0.999}]}

overview = dashboard(
    "fedprobe-overview", "fedprobe: federation overview",
    "The sites x networks matrix: each cell the worst probe kind from a site to a network.",
    [
        panel("state-timeline", "Sites × networks (worst probe, share as expected over 5 min)",
              [target(f"sort(fedprobe:network_as_expected:min_ratio_avg5m{{{SEL}}})",
                      "{{site}} → {{network}}")],
              "percentunit", 0, 0, w=24, h=12,
              description="Worst first. A probe that ends as the config expects (a service the "
                          "policy denies, stopped; a target declared to fail) counts as fine.",
              fieldConfig={"defaults": {"unit": "percentunit", "min": 0, "max": 1,
                                        "thresholds": RED_GREEN,
                                        "color": {"mode": "thresholds"}}, "overrides": []}),
        panel("table", "Failing now, not as expected, with who said so",
              [target(f"fedprobe_probe_last_error_info{{{SEL}}} == 1 unless on(site, target, probe, service) "
                      f"fedprobe_probe_as_expected == 1", fmt="table", instant=True)],
              "none", 0, 12, w=16, h=10,
              description="outcome, reporter and reporter_network name the device that answered. "
                          "Failures the config expects are left out (fedprobe_probe_expected_info)."),
        panel("stat", "Flows compliant",
              [target('fedprobe:flows_compliant:ratio{site=~"$site"}', "{{site}}")],
              "percentunit", 16, 12, w=8, h=5),
        panel("stat", "Probes not as expected",
              [target(f"sum(fedprobe:network_unexpected_probes:count{{{SEL}}}) or vector(0)")],
              "none", 16, 17, w=8, h=5),
    ],
    variables("site", "network"))

LINK = 'site=~"$site",network=~"$network",target=~"$target"'
drilldown = dashboard(
    "fedprobe-link", "fedprobe: link drill-down",
    "One target as one site sees it: RTT, loss, outcomes with reporters, path, MTU, idle "
    "timeouts and STAMP.",
    [
        panel("heatmap", "ICMP RTT",
              [target(f"sum by (le) (rate(fedprobe_icmp_rtt_seconds_bucket{{{LINK}}}[$__rate_interval]))",
                      "{{le}}", fmt="heatmap")],
              "s", 0, 0, options={"calculate": False, "yAxis": {"unit": "s"}}),
        panel("timeseries", "ICMP loss",
              [target(f"1 - rate(fedprobe_icmp_packets_received_total{{{LINK}}}[$__rate_interval]) / "
                      f"rate(fedprobe_icmp_packets_sent_total{{{LINK}}}[$__rate_interval])",
                      "{{target}}")],
              "percentunit", 12, 0),
        panel("timeseries", "Outcomes",
              [target(f"sum by (probe, service, outcome) (rate(fedprobe_probe_outcome_total{{{LINK}}}[$__rate_interval]))",
                      "{{probe}}:{{service}} {{outcome}}")],
              "ops", 0, 8),
        panel("table", "Last failure and its reporter",
              [target(f"fedprobe_probe_last_error_info{{{LINK}}} == 1", fmt="table", instant=True)],
              "none", 12, 8),
        panel("table", "Path (hop by hop, with each hop's network)",
              [target(f"fedprobe_path_hop_info{{{LINK}}}", fmt="table", instant=True)],
              "none", 0, 16),
        panel("timeseries", "Path MTU",
              [target(f"fedprobe_path_mtu_bytes{{{LINK}}}", "{{target}} {{service}}")],
              "bytes", 12, 16),
        panel("table", "Where each trace stops, black holes and middleboxes",
              [target(f"fedprobe_path_stop_info{{{LINK}}} or fedprobe_path_blackhole_info{{{LINK}}} "
                      f"or fedprobe_path_middlebox_info{{{LINK}}}", fmt="table", instant=True)],
              "none", 0, 40, w=24,
              description="reason and hop: why and where each trace stopped; a black hole row names "
                          "the last hop that passed full-size packets; a middlebox row the hop that "
                          "changed MSS or DSCP."),
        panel("timeseries", "Idle timeout bounds (idle:SERVICE)",
              [target(f"fedprobe_idle_timeout_lower_seconds{{{LINK}}}", "survived {{service}}"),
               target(f"fedprobe_idle_timeout_upper_seconds{{{LINK}}}", "cut {{service}}")],
              "s", 0, 24, description="Empty for targets without an idle probe."),
        panel("timeseries", "STAMP round trip",
              [target(f"histogram_quantile(0.5, sum by (le) (rate(fedprobe_stamp_rtt_seconds_bucket{{{LINK}}}[$__rate_interval])))",
                      "p50")],
              "s", 12, 24, description="The reflector's dwell removed. Empty for targets without a stamp probe."),
        panel("timeseries", "STAMP loss each way",
              [target(f"sum(rate(fedprobe_stamp_forward_lost_total{{{LINK}}}[$__rate_interval])) / sum(rate(fedprobe_stamp_packets_sent_total{{{LINK}}}[$__rate_interval]))",
                      "there (forward)"),
               target(f"sum(rate(fedprobe_stamp_backward_lost_total{{{LINK}}}[$__rate_interval])) / sum(rate(fedprobe_stamp_packets_sent_total{{{LINK}}}[$__rate_interval]))",
                      "back (backward)")],
              "percentunit", 0, 32,
              description="From a stateful reflector's count: loss on the way there is the far side's "
                          "inbound path, loss on the way back its outbound one."),
    ],
    variables("site", "network", "target"))

policy = dashboard(
    "fedprobe-policy", "fedprobe: policy",
    "The firewall policy's flows: compliance per site, violations, and each flow's state.",
    [
        panel("stat", "Compliance per site", [target('fedprobe:flows_compliant:ratio{site=~"$site"}', "{{site}}")],
              "percentunit", 0, 0, w=24, h=5),
        panel("table", "Not compliant now",
              [target('fedprobe_flow_compliant{site=~"$site"} == 0', fmt="table", instant=True)],
              "none", 0, 5, w=24, h=8,
              description="fedprobe_flow_reporter_info names the device; deny flows that connect "
                          "are violations."),
        panel("state-timeline", "Flows",
              [target('fedprobe_flow_compliant{site=~"$site"}', "{{site}} {{flow}}")],
              "bool_yes_no", 0, 13, w=24, h=12),
        panel("table", "Where broken flows stop: the device that answered, or the last hop",
              [target('fedprobe_flow_reporter_info{site=~"$site"} or fedprobe_flow_blocked_after_info{site=~"$site"}',
                      fmt="table", instant=True)],
              "none", 0, 25, w=24, h=8,
              description="reporter: the device that rejected or had no route; hop: the last that "
                          "answered a silent drop's trace. fedprobe_federation_fault_info (fedprobe "
                          "blame --serve) adds the segment and its owner."),
    ],
    variables("site", base="fedprobe_flow_compliant"))

certificates = dashboard(
    "fedprobe-certificates", "fedprobe: certificates",
    "When the certificates of HTTPS targets expire, as each site sees them.",
    [
        panel("table", "Time left (earliest in each chain)",
              [target('sort(fedprobe_tls_cert_not_after_timestamp_seconds{site=~"$site",cert="earliest"} - time())',
                      fmt="table", instant=True)],
              "s", 0, 0, w=24, h=12),
        panel("stat", "Unverified certificates",
              [target('count(fedprobe_tls_cert_verified{site=~"$site"} == 0) or vector(0)')],
              "none", 0, 12, w=8, h=5),
    ],
    variables("site", base="fedprobe_tls_cert_verified"))

OUT = sys.argv[1] if len(sys.argv) > 1 else HERE  # tests write elsewhere and compare
for name, d in [("federation-overview", overview), ("link-drilldown", drilldown),
                ("policy", policy), ("certificates", certificates)]:
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(d, f, indent=2)
        f.write("\n")
print("dashboards written to", OUT)
