#!/usr/bin/env python3
"""The application checks' cost against a tcp connect: `fedprobe run` (the daemon that ships)
probing N targets on loopback once a second, one run per kind side by side, against real peers:
the lab's interface engine (lab/listeners.py) for mllp and for tcp's connects, DCMTK's storescp
(a process per association) for dicom. Prints the daemon's CPU-microseconds per completed probe
for each kind and the ratio to tcp (the goal: at most 2).

    bench/app_bench.py build/daemon/fedprobe [--targets 200] [--seconds 20]
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def scrape(port):
    import urllib.request
    return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()


def probes_done(text, kind):
    done = ok = 0
    for m in re.finditer(r'^fedprobe_probe_outcome_total\{([^}]*)\} ([0-9.e+]+)$', text, re.M):
        if f'probe="{kind}"' in m.group(1):
            done += float(m.group(2))
            ok += float(m.group(2)) if 'outcome="ok"' in m.group(1) else 0
    return done, ok


def wait_port(port):
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    sys.exit(f"nothing listens on {port}")


def run_kind(fedprobe, kind, targets, seconds, work, port):
    service = {"tcp": "hl7", "mllp": "hl7", "dicom": "dicom"}[kind]
    cfg = os.path.join(work, f"{kind}.toml")
    with open(cfg, "w") as f:
        f.write(f'[fedprobe]\nsite = "bench"\ninterval = "1s"\ntimeout = "1s"\n'
                f'listen = "127.0.0.1:{port}"\nrate_limit = 100000\n'
                '[[networks]]\nid = "bench"\nprefixes = ["127.0.0.0/8"]\n'
                '[services]\nhl7 = { proto = "tcp", port = 22575 }\n'
                'dicom = { proto = "tcp", port = 21104 }\n')
        for i in range(targets):
            f.write(f'[[targets]]\nid = "t{i}"\nnetwork = "bench"\naddress = "127.0.0.1"\n'
                    f'probes = ["{kind}:{service}"]\n')
    p = subprocess.Popen([fedprobe, "run", "--config", cfg, "--log-level", "warn"],
                         stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, kind + ".log"), "w"))
    try:
        wait_port(port)
        time.sleep(3)  # past the first rounds' start-up
        c0, (d0, ok0) = cpu_seconds(p.pid), probes_done(scrape(port), kind)
        time.sleep(seconds)
        c1, (d1, ok) = cpu_seconds(p.pid), probes_done(scrape(port), kind)
    finally:
        p.terminate()
        p.wait()
    done = d1 - d0
    return (c1 - c0) * 1e6 / done if done else float("nan"), done, ok - ok0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fedprobe")
    ap.add_argument("--targets", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=20)
    a = ap.parse_args()
    if not shutil.which("storescp"):
        sys.exit("storescp (Debian dcmtk) is needed: tools/install-deps")
    work = tempfile.mkdtemp()
    peers = [subprocess.Popen([sys.executable, os.path.join(ROOT, "lab", "listeners.py"), "22575=AA", ""]),
             subprocess.Popen(["storescp", "--fork", "--disable-host-lookup", "-od", work,
                               "--aetitle", "ANY-SCP", "21104"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)]
    try:
        wait_port(22575)
        wait_port(21104)
        results = {}
        for i, kind in enumerate(["tcp", "mllp", "dicom"]):
            results[kind] = run_kind(a.fedprobe, kind, a.targets, a.seconds, work, 19741 + i)
    finally:
        for p in peers:
            p.terminate()
            p.wait()
        shutil.rmtree(work, ignore_errors=True)
    base = results["tcp"][0]
    print(f"{a.targets} targets, 1 s interval, {a.seconds:.0f} s measured per kind, loopback")
    print(f"{'kind':6} {'probes':>8} {'ok':>8} {'CPU-us/probe':>13} {'x tcp':>6}")
    for kind, (us, done, ok) in results.items():
        print(f"{kind:6} {done:8.0f} {ok:8.0f} {us:13.1f} {us / base:6.2f}")


if __name__ == "__main__":
    main()
