#!/usr/bin/env python3
"""`fedprobe blame` over six appliances of 1,000 flows each, beside curl fetching the same six
scrapes: the gathering and judging that ships, against the floor of reading the scrapes at all.

    bench/blame_bench.py build/daemon/fedprobe [--flows 1000] [--sites 6] [--broken 0.3] [--repeat 5]

Each appliance's scrape is made up in the shape fedprobe writes it: per flow its compliance,
its state set (8 series) and, for the broken ones, a reporter or a blocked_after; per target a
path trace of 6 hops with its stop, and STAMP to each other appliance. A share of the flows is
broken (silent drops, which ask the other end, and rejects), so every rule runs. The scrapes are
served on loopback by a small HTTP server in this process's own thread; blame reads them as
URLs, as it reads appliances. Prints blame's wall time and peak RSS, the gathering time blame
reports apart, and curl's time for the same six URLs (the ratio blame / curl).
"""
import argparse
import http.server
import os
import random
import re
import resource
import socketserver
import subprocess
import sys
import tempfile
import threading
import time

STATES = ["ok", "refused", "filtered", "prohibited", "unreachable", "error", "mismatch", "tls_error",
          "app_blocked"]


def series(name, value, **labels):
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if v != "") + \
        "} " + str(value)


def scrape(site, sites, flows, broken, rng):
    out = []
    others = [s for s in sites if s != site]
    per = flows // len(others)
    for o in others:
        for i in range(per):
            f = dict(expect="allow", flow=f"f{i}", network=o, service="https", site=site,
                     to=f"{o}-t{i}")
            f["from"] = site
            r = rng.random()
            state = "ok" if r >= broken else ("filtered" if r < broken * 0.7 else "prohibited")
            out.append(series("fedprobe_flow_compliant", int(state == "ok"), **f))
            for st in STATES:
                out.append(series("fedprobe_flow_state", int(st == state), state=st, **f))
            if state == "prohibited":
                out.append(series("fedprobe_flow_reporter_info", 1, reporter="192.0.2.6",
                                  reporter_network=o, **f))
            if state == "filtered":
                out.append(series("fedprobe_flow_blocked_after_info", 1, hop="172.20.1.2",
                                  hop_network=o, ttl=5, **f))
            t = dict(network=o, probe="path", service="https", site=site, target=f"{o}-t{i}")
            out.append(series("fedprobe_path_reached", 1, **t))
            hops = [(site, "10.0.0.1"), ("core", "192.0.2.1"), ("ix", "192.0.2.101"), ("", ""),
                    (o, "172.20.1.2"), (o, "10.1.2.10")]
            for ttl, (net, addr) in enumerate(hops, 1):
                out.append(series("fedprobe_path_hop_info", 1, hop=addr, hop_network=net,
                                  ttl=ttl, **t))
            out.append(series("fedprobe_path_stop_info", 1, hop="10.1.2.10", hop_network=o,
                              reason="reached", ttl=6, **t))
        st = dict(network=o, probe="stamp", site=site, target=f"{o}-app")
        out.append(series("fedprobe_probe_success", 1, **st))
        out.append(series("fedprobe_stamp_packets_sent_total", 1000, **st))
    return "\n".join(out) + "\n"


def config(sites, ports):
    text = '[fedprobe]\nsite = "%s"\n' % sites[0]
    for i, (s, p) in enumerate(zip(sites, ports)):
        text += (f'[[networks]]\nid = "{s}"\nprefixes = ["10.{i}.0.0/16"]\n'
                 f'appliance = "127.0.0.1:{p}"\n')
    for n in ("core", "ix"):
        text += f'[[networks]]\nid = "{n}"\nprefixes = ["192.0.2.{1 if n == "core" else 101}/32"]\n'
    return text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fedprobe")
    ap.add_argument("--flows", type=int, default=1000)
    ap.add_argument("--sites", type=int, default=6)
    ap.add_argument("--broken", type=float, default=0.3)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    rng = random.Random(1)
    sites = [f"org{i}" for i in range(a.sites)]
    bodies = {s: scrape(s, sites, a.flows, a.broken, rng).encode() for s in sites}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = bodies[self.path.strip("/").split("/")[0]]
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    urls = [f"http://127.0.0.1:{port}/{s}/metrics" for s in sites]
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
        f.write(config(sites, [port] * len(sites)))
        cfg = f.name
    size = sum(len(b) for b in bodies.values())
    print(f"{a.sites} appliances x {a.flows} flows ({int(a.broken * 100)}% broken), "
          f"{size / 1e6:.1f} MB of scrapes on loopback")
    print(f"{'run':>4} {'blame s':>8} {'gather ms':>10} {'judge ms':>9} {'peak RSS MiB':>13} "
          f"{'curl s':>7} {'blame/curl':>11} {'verdicts':>9}")
    try:
        for run in range(1, a.repeat + 1):
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            t0 = time.perf_counter()
            p = subprocess.run([a.fedprobe, "blame", "--config", cfg, "--format", "json", *urls],
                               capture_output=True, text=True)
            blame_s = time.perf_counter() - t0
            rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            if p.returncode not in (0, 1):
                sys.exit(f"blame exited {p.returncode}: {p.stderr}")
            m = re.search(r"gathered in ([\d.]+) ms, judged in ([\d.]+) ms", p.stderr)
            verdicts = p.stdout.count('"segment"')
            t0 = time.perf_counter()
            subprocess.run(["curl", "-sf", *[x for u in urls for x in (u, "-o", "/dev/null")]],
                           check=True)
            curl_s = time.perf_counter() - t0
            # ru_maxrss of children is the largest child so far: blame's is the largest one.
            print(f"{run:>4} {blame_s:>8.3f} {float(m.group(1)):>10.1f} {float(m.group(2)):>9.1f} "
                  f"{max(rss, before) / 1024:>13.1f} {curl_s:>7.3f} {blame_s / curl_s:>10.1f}x "
                  f"{verdicts:>9}")
    finally:
        os.unlink(cfg)
        server.shutdown()


if __name__ == "__main__":
    main()
