#!/usr/bin/env python3
"""The application checks' cost against a tcp connect: `fedprobe run` (the daemon that ships)
probing N targets on loopback once a second, one run per kind side by side, against real peers:
the lab's interface engine (lab/listeners.py) for mllp and for tcp's connects, DCMTK's storescp
(a process per association) for dicom, aiosmtpd for smtp (with STARTTLS), OpenLDAP's slapd for
ldap (with StartTLS) and tls (its LDAPS port). Prints the daemon's CPU-microseconds per
completed probe for each kind and the ratio to tcp (the goal: at most 2). On loopback the
daemon's CPU includes the kernel's work for both ends of every exchange.

    bench/app_bench.py build/daemon/fedprobe [--targets 200] [--seconds 20] [--floor app_floor]
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
    service = {"tcp": "hl7", "mllp": "hl7", "dicom": "dicom", "smtp": "smtp", "ldap": "ldap",
               "tls": "ldaps"}[kind]
    tls = f'server_name = "bench.test", ca_file = "{work}/cert.pem"'
    table = {"smtp": f"smtp = {{ starttls = true, {tls} }}\n",
             "ldap": f"ldap = {{ starttls = true, {tls} }}\n",
             "tls": f"tls = {{ {tls} }}\n"}.get(kind, "")
    cfg = os.path.join(work, f"{kind}.toml")
    with open(cfg, "w") as f:
        f.write(f'[fedprobe]\nsite = "bench"\ninterval = "1s"\ntimeout = "800ms"\n'
                f'listen = "127.0.0.1:{port}"\nrate_limit = 100000\n'
                '[[networks]]\nid = "bench"\nprefixes = ["127.0.0.0/8"]\n'
                '[services]\nhl7 = { proto = "tcp", port = 22575 }\n'
                'dicom = { proto = "tcp", port = 21104 }\n'
                'smtp = { proto = "tcp", port = 22525 }\n'
                'ldap = { proto = "tcp", port = 23389 }\n'
                'ldaps = { proto = "tcp", port = 23636 }\n')
        for i in range(targets):
            f.write(f'[[targets]]\nid = "t{i}"\nnetwork = "bench"\naddress = "127.0.0.1"\n'
                    f'probes = ["{kind}:{service}"]\n' + table)
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


def s_time_floor(work):
    """CPU-microseconds per handshake of OpenSSL's own client against the LDAPS port: what a TLS
    handshake costs on this machine before any checking, the floor of every TLS check."""
    t0 = os.times()
    out = subprocess.run(["openssl", "s_time", "-connect", "127.0.0.1:23636", "-new", "-time", "5"],
                         capture_output=True, text=True).stdout
    t1 = os.times()
    m = re.search(r"(\d+) connections in [0-9.]+s", out)
    n = int(m.group(1)) if m else 0
    cpu = (t1.children_user - t0.children_user) + (t1.children_system - t0.children_system)
    return cpu * 1e6 / n if n else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fedprobe")
    ap.add_argument("--targets", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--floor", help="bench/app_floor: the least a blocking client spends per tcp "
                    "connect and per DICOM verification against the same peers")
    a = ap.parse_args()
    for tool in ("storescp", "slapd", "openssl"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed: tools/install-deps")
    work = tempfile.mkdtemp()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", f"{work}/key.pem", "-out", f"{work}/cert.pem", "-subj", "/CN=bench.test",
                    "-addext", "subjectAltName=DNS:bench.test"], check=True, capture_output=True)
    os.makedirs(f"{work}/ldap-db")
    with open(f"{work}/slapd.conf", "w") as f:
        f.write(f"include /etc/ldap/schema/core.schema\npidfile {work}/slapd.pid\n"
                "modulepath /usr/lib/ldap\nmoduleload back_mdb\n"
                f"TLSCertificateFile {work}/cert.pem\nTLSCertificateKeyFile {work}/key.pem\n"
                f'database mdb\nmaxsize 16777216\nsuffix "dc=bench"\ndirectory {work}/ldap-db\n')
    subprocess.run(["slapd", "-f", f"{work}/slapd.conf", "-h",
                    "ldap://127.0.0.1:23389/ ldaps://127.0.0.1:23636/", "-u", "root", "-g", "root"],
                   check=True)
    peers = [subprocess.Popen(["/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:22525",
                               "--tlscert", f"{work}/cert.pem", "--tlskey", f"{work}/key.pem",
                               "--no-requiretls"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL),subprocess.Popen([sys.executable, os.path.join(ROOT, "lab", "listeners.py"), "22575=AA", ""]),
             subprocess.Popen(["storescp", "--fork", "--disable-host-lookup", "-od", work,
                               "--aetitle", "ANY-SCP", "21104"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)]
    try:
        for port in (22575, 21104, 22525, 23389, 23636):
            wait_port(port)
        results = {}
        for i, kind in enumerate(["tcp", "mllp", "dicom", "smtp", "ldap", "tls"]):
            results[kind] = run_kind(a.fedprobe, kind, a.targets, a.seconds, work, 19741 + i)
        tls_floor = s_time_floor(work)
        floors = {}
        if a.floor:
            for kind, port in (("tcp", 22575), ("dicom", 21104)):
                out = subprocess.run([a.floor, kind, str(port), "3000"], capture_output=True,
                                     text=True).stdout
                m = re.search(r"([0-9.]+) CPU-us each", out)
                floors[kind] = float(m.group(1)) if m else float("nan")
    finally:
        for p in peers:
            p.terminate()
            p.wait()
        try:
            os.kill(int(open(f"{work}/slapd.pid").read()), 15)
        except (OSError, ValueError):
            pass
        shutil.rmtree(work, ignore_errors=True)
    base = results["tcp"][0]
    print(f"{a.targets} targets, 1 s interval, {a.seconds:.0f} s measured per kind, loopback")
    print(f"{'kind':6} {'probes':>8} {'ok':>8} {'CPU-us/probe':>13} {'x tcp':>6} {'x TLS floor':>12}")
    for kind, (us, done, ok) in results.items():
        floor = f"{us / tls_floor:12.2f}" if kind in ("smtp", "ldap", "tls") else ""
        print(f"{kind:6} {done:8.0f} {ok:8.0f} {us:13.1f} {us / base:6.2f} {floor}")
    if floors:
        print(f"floor (app_floor, blocking client, same peers): tcp {floors['tcp']:.1f} CPU-us, "
              f"dicom {floors['dicom']:.1f} CPU-us ({floors['dicom'] / floors['tcp']:.2f}x); "
              f"fedprobe over the floor: tcp {base / floors['tcp']:.2f}x, "
              f"dicom {results['dicom'][0] / floors['dicom']:.2f}x")
    print(f"TLS floor: openssl s_time, {tls_floor:.0f} CPU-us per new TLS connection to the same "
          "LDAPS port (OpenSSL's own client, no certificate check)")


if __name__ == "__main__":
    main()
