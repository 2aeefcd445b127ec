#!/usr/bin/env python3
"""ICMP through the daemon that ships: `fedprobe run` with N loopback targets, each pinged once a
second (one echo per probe), then fping on the same addresses at the same rate, side by side.

Prints, per size: probes/s, CPU-us per probe (user+sys of the process, from /proc, so the
kernel's loopback work charged to it counts), failed and overloaded rounds (on loopback every
failure is false), RSS before and after two scrapes, the exposition size and the time to serve
one scrape while probing goes on, and fping's CPU per probe with the ratio.

Needs root (raw sockets) and sends only to 127.0.0.0/8. Usage:
    bench/icmp_daemon.py FEDPROBE [--sizes 1000,10000] [--seconds 20]
"""
import argparse, os, re, shutil, subprocess, sys, tempfile, time, urllib.request

TCK = os.sysconf("SC_CLK_TCK")


def address(i):  # 127.1.0.1 upwards, never the host's own 127.0.0.0/24
    n = i + 1
    return f"127.{1 + n // 65536}.{(n // 256) % 256}.{n % 256}"


def cpu_s(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TCK  # utime, stime


def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def scrape(port):
    t = time.monotonic()
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=60).read()
    return body.decode(), time.monotonic() - t


def total(text, metric, pred=lambda labels: True):
    s = 0.0
    for m in re.finditer(r"^" + metric + r"(\{[^}]*\})? (\S+)$", text, re.M):
        if pred(m.group(1) or ""):
            s += float(m.group(2))
    return s


def run_fedprobe(exe, n, seconds, port, tmp):
    cfg = os.path.join(tmp, f"bench-{n}.toml")
    with open(cfg, "w") as f:
        f.write(f'[fedprobe]\nsite = "bench"\nlisten = "127.0.0.1:{port}"\nrate_limit = 1000000\n'
                '[[networks]]\nid = "bench"\n[[networks]]\nid = "loopback"\n'
                'prefixes = ["127.0.0.0/8"]\n')
        for i in range(n):
            f.write(f'[[targets]]\nid = "t{i}"\nnetwork = "loopback"\naddress = "{address(i)}"\n'
                    'probes = ["icmp"]\ninterval = "1s"\ntimeout = "900ms"\nicmp = { packets = 1 }\n')
    p = subprocess.Popen([exe, "run", "--config", cfg, "--log-level", "warn"])
    try:
        time.sleep(3)  # first runs spread over one interval, then settle
        before, _ = scrape(port)
        rss0 = rss_mib(p.pid)
        c0, t0 = cpu_s(p.pid), time.monotonic()
        time.sleep(seconds)
        c1, t1 = cpu_s(p.pid), time.monotonic()
        after, scrape_s = scrape(port)
        _, scrape2_s = scrape(port)
        rss1 = rss_mib(p.pid)
    finally:
        p.terminate()
        p.wait()
    sent = total(after, "fedprobe_icmp_packets_sent_total") - total(before, "fedprobe_icmp_packets_sent_total")
    bad = lambda l: 'outcome="ok"' not in l
    failed = total(after, "fedprobe_probe_outcome_total", bad) - total(before, "fedprobe_probe_outcome_total", bad)
    over = total(after, "fedprobe_probe_overloaded_total") - total(before, "fedprobe_probe_overloaded_total")
    return dict(probes_s=sent / (t1 - t0), cpu_us=(c1 - c0) * 1e6 / max(sent, 1), failed=int(failed),
                overloaded=int(over), rss0=rss0, rss1=rss1, body_mb=len(after) / 1e6,
                per_target_b=len(after) / n, scrape_s=min(scrape_s, scrape2_s))


def run_fping(n, seconds, tmp):
    if not shutil.which("fping"):
        return None
    if n > 65535:
        return "refuses more than 65,535 targets"
    path = os.path.join(tmp, f"fping-{n}.txt")
    with open(path, "w") as f:
        f.write("\n".join(address(i) for i in range(n)) + "\n")
    r0 = os.times()
    t0 = time.monotonic()
    subprocess.run(["fping", "-q", "-i", "0", "-p", "1000", "-c", str(seconds), "-f", path],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    r1 = os.times()
    cpu = (r1.children_user - r0.children_user) + (r1.children_system - r0.children_system)
    return dict(cpu_us=cpu * 1e6 / (n * seconds), probes_s=n * seconds / (time.monotonic() - t0))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fedprobe")
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--seconds", type=int, default=20)
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    print(f"fedprobe run vs fping: {os.cpu_count()} cores, each target once per second, 1 echo, "
          f"{a.seconds} s measured\n")
    print(f"{'targets':>8} {'probes/s':>9} {'cpu-us/p':>9} {'failed':>7} {'overld':>7} {'RSS MiB':>8} "
          f"{'after scr':>9} {'scrape MB':>9} {'B/target':>9} {'scrape s':>9} {'fping us/p':>10} {'fping/fedprobe':>14}")
    with tempfile.TemporaryDirectory() as tmp:
        for i, n in enumerate(sizes):
            f = run_fedprobe(a.fedprobe, n, a.seconds, 19641 + i, tmp)
            fp = run_fping(n, a.seconds, tmp)
            fping_col = f"{fp['cpu_us']:10.2f} {fp['cpu_us'] / f['cpu_us']:13.2f}x" if isinstance(fp, dict) \
                else f"{'-':>10} {fp or 'not installed':>14}"
            print(f"{n:8d} {f['probes_s']:9.0f} {f['cpu_us']:9.2f} {f['failed']:7d} {f['overloaded']:7d} "
                  f"{f['rss0']:8.1f} {f['rss1']:9.1f} {f['body_mb']:9.2f} {f['per_target_b']:9.0f} "
                  f"{f['scrape_s']:9.3f} {fping_col}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
