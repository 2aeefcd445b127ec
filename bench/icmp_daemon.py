#!/usr/bin/env python3
"""ICMP through the daemon that ships: `fedprobe run` with N loopback targets, each pinged once a
second (one echo per probe), then fping on the same addresses at the same rate, side by side.

Prints, per size: probes/s, CPU-us per probe (the probing thread's, from /proc schedstat, so
the kernel's loopback work charged to it counts, and the series it records; the HTTP threads'
work for scrapes is measured apart, as the time one scrape takes), failed and overloaded rounds (on loopback every
failure is false), RSS before and after two scrapes, the exposition size and the time to serve
one scrape while probing goes on, and fping's CPU per probe with the ratio.

With --scrapers N, N concurrent scrapes then run while probing goes on: it prints their median
and slowest time and the scheduler's mean lag in the windows before and during them (from the
daemon's own fedprobe_scheduler_lag_seconds), so a scrape that slows the probe loop shows.
With --repeat R each size runs R times (the issue's "zero false loss in 5 consecutive runs").

With --floor PATH (bench/icmp_floor) the machine's floor runs too, just before and just after
fedprobe: the same echoes from a tight sendmmsg/recvmmsg loop that keeps no state, mostly the
kernel's own work per echo, which no prober can go below; fedprobe's CPU is printed as a
multiple of the two runs' mean.

Needs root (raw sockets) and sends only to 127.0.0.0/8. Usage:
    bench/icmp_daemon.py FEDPROBE [--sizes 1000,10000] [--seconds 20] [--repeat 1] [--scrapers 0]
                         [--interval 1] [--floor build/bench/icmp_floor]
"""
import argparse, os, re, shutil, statistics, subprocess, sys, tempfile, threading, time
import urllib.request



def address(i):  # 127.1.0.1 upwards, never the host's own 127.0.0.0/24
    n = i + 1
    return f"127.{1 + n // 65536}.{(n // 256) % 256}.{n % 256}"


def cpu_s(pid, only_tid=None):
    """CPU time of the process's threads (or of one), in ns from schedstat: /proc/PID/stat
    counts in clock ticks, 10 ms apiece, a tenth of what 1,000 targets cost in 10 s."""
    ns = 0
    for tid in ([str(only_tid)] if only_tid else os.listdir(f"/proc/{pid}/task")):
        try:
            ns += int(open(f"/proc/{pid}/task/{tid}/schedstat").read().split()[0])
        except OSError:
            pass  # a thread that ended meanwhile
    return ns / 1e9


def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def hwm_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def scrape(port):
    t = time.monotonic()
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=60).read()
    return body.decode(), time.monotonic() - t


def scrape_gzip(port):
    """As Prometheus scrapes: Accept-Encoding gzip. (size MB, seconds), or None when the body
    came back uncompressed."""
    t = time.monotonic()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req, timeout=60) as r:
        body = r.read()
        took = time.monotonic() - t
        if r.headers.get("Content-Encoding") != "gzip":
            return None
    return len(body) / 1e6, took


def total(text, metric, pred=lambda labels: True):
    s = 0.0
    for m in re.finditer(r"^" + metric + r"(\{[^}]*\})? (\S+)$", text, re.M):
        if pred(m.group(1) or ""):
            s += float(m.group(2))
    return s


def lag(text):
    return (total(text, "fedprobe_scheduler_lag_seconds_sum"),
            total(text, "fedprobe_scheduler_lag_seconds_count"))


def mean_lag_ms(before, after):
    (s0, n0), (s1, n1) = lag(before), lag(after)
    return 1e3 * (s1 - s0) / max(n1 - n0, 1)


def storm(port, n):
    """n concurrent scrapes; their times (s) and how many were not whole."""
    times, bad = [], [0]
    lock = threading.Lock()

    def one():
        try:
            body, took = scrape(port)
            ok = "fedprobe_build_info" in body and body.endswith("\n")
        except OSError:
            ok, took = False, 0.0
        with lock:
            times.append(took)
            bad[0] += 0 if ok else 1

    ts = [threading.Thread(target=one) for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return times, bad[0]


def run_fedprobe(exe, n, seconds, port, tmp, scrapers=0, interval=1):
    cfg = os.path.join(tmp, f"bench-{n}.toml")
    with open(cfg, "w") as f:
        f.write(f'[fedprobe]\nsite = "bench"\nlisten = "127.0.0.1:{port}"\nrate_limit = 1000000\n'
                f'interval = "{interval}s"\ntimeout = "900ms"\n'
                '[[networks]]\nid = "bench"\n[[networks]]\nid = "loopback"\n'
                'prefixes = ["127.0.0.0/8"]\n')
        for i in range(n):
            f.write(f'[[targets]]\nid = "t{i}"\nnetwork = "loopback"\naddress = "{address(i)}"\n'
                    'probes = ["icmp"]\nicmp = { packets = 1 }\n')
    p = subprocess.Popen([exe, "run", "--config", cfg, "--log-level", "warn"])
    # Ready when /-/ready says so (loading 100,000 targets takes a few seconds); asking /metrics
    # instead would be a scrape of 134 MB before the "before any scrape" reading.
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=5).read()
            break
        except OSError:
            if p.poll() is not None:
                raise SystemExit(f"fedprobe exited with {p.returncode} at start-up")
            time.sleep(0.1)
    extra = {}
    try:
        time.sleep(interval + 2)  # first runs spread over one interval, then settle
        rss0 = rss_mib(p.pid)  # before any scrape
        # The counters are read somewhere inside each scrape (1.2 s at 100,000 targets), so the
        # window runs from the middle of the first scrape to the middle of the second, with the
        # probing thread's CPU taken at the same points (the mean of its readings on either
        # side of each scrape: it probes at a steady rate). The HTTP threads' work for the
        # scrapes is not probing and is not counted.
        def bracketed():
            c_a, t_a = cpu_s(p.pid, p.pid), time.monotonic()
            body, took = scrape(port)
            c_b, t_b = cpu_s(p.pid, p.pid), time.monotonic()
            return body, took, (c_a + c_b) / 2, (t_a + t_b) / 2
        before, _, c0, t0 = bracketed()
        time.sleep(seconds)
        after, scrape_s, c1, t1 = bracketed()
        _, scrape2_s = scrape(port)
        gz = scrape_gzip(port)
        time.sleep(1)  # the HTTP thread gives the scrape's memory back after the response
        rss1 = rss_mib(p.pid)
        if scrapers:
            quiet0, _ = scrape(port)
            time.sleep(5)
            quiet1, _ = scrape(port)
            times, bad = storm(port, scrapers)
            during, _ = scrape(port)
            extra = dict(storm_median=statistics.median(times), storm_max=max(times), storm_bad=bad,
                         lag_quiet_ms=mean_lag_ms(quiet0, quiet1), lag_storm_ms=mean_lag_ms(quiet1, during),
                         storm_failed=int(total(during, "fedprobe_probe_outcome_total", lambda l: 'outcome="ok"' not in l)
                                          - total(quiet1, "fedprobe_probe_outcome_total", lambda l: 'outcome="ok"' not in l)),
                         rss_storm=rss_mib(p.pid), hwm=hwm_mib(p.pid))
    finally:
        p.terminate()
        p.wait()
    sent = total(after, "fedprobe_icmp_packets_sent_total") - total(before, "fedprobe_icmp_packets_sent_total")
    bad = lambda l: 'outcome="ok"' not in l
    failed = total(after, "fedprobe_probe_outcome_total", bad) - total(before, "fedprobe_probe_outcome_total", bad)
    over = total(after, "fedprobe_probe_overloaded_total") - total(before, "fedprobe_probe_overloaded_total")
    return dict(probes_s=sent / (t1 - t0), cpu_us=(c1 - c0) * 1e6 / max(sent, 1), failed=int(failed),
                overloaded=int(over), rss0=rss0, rss1=rss1, body_mb=len(after) / 1e6,
                per_target_b=len(after) / n, scrape_s=min(scrape_s, scrape2_s), gzip=gz, **extra)


def run_fping(n, seconds, tmp, interval=1):
    if not shutil.which("fping"):
        return None
    if n > 65535:
        return "refuses more than 65,535 targets"
    if 65535 // n < 2:
        return "too few sequence numbers"
    path = os.path.join(tmp, f"fping-{n}.txt")
    with open(path, "w") as f:
        f.write("\n".join(address(i) for i in range(n)) + "\n")
    t0 = time.monotonic()
    # fping has 65,535 sequence numbers for all the echoes it may still be waiting for (10 s);
    # past that it aborts, so at 10,000 targets it runs 6 rounds, not 10.
    count = max(1, min(seconds // interval, 65535 // n))
    with tempfile.TemporaryFile(mode="w+") as err:
        f = subprocess.Popen(["fping", "-q", "-i", "0", "-p", str(1000 * interval), "-c", str(count), "-f", path],
                             stdout=subprocess.DEVNULL, stderr=err)
        _, _, usage = os.wait4(f.pid, 0)  # microseconds, where os.times() has 10 ms ticks
        f.returncode = 0
        err.seek(0)
        out = err.read()
    cpu = usage.ru_utime + usage.ru_stime
    # What fping really sent, from its per-target summary ("ADDR : xmt/rcv/%loss = 10/10/0%"),
    # not the nominal count (dividing by that flattered fping 1.5x at 10,000 targets).
    sent = sum(int(m.group(1)) for m in re.finditer(r"xmt/rcv/%loss = (\d+)/", out))
    if not sent:
        return "printed no summary"
    return dict(cpu_us=cpu * 1e6 / sent, probes_s=sent / (time.monotonic() - t0), sent=sent)


def run_floor(floor, n, seconds, interval=1):
    """bench/icmp_floor on the same addresses at the same rate: the least CPU any prober spends
    per echo on this machine (the kernel's own work, a tight sendmmsg/recvmmsg loop)."""
    if not floor:
        return None
    out = subprocess.run([floor, str(n), str(interval), str(seconds)], capture_output=True,
                         text=True, timeout=seconds + 60)
    m = re.search(r"sent=(\d+) received=(\d+) cpu_us_per_echo=([\d.]+)", out.stdout)
    if out.returncode != 0 or not m:
        return "failed: " + (out.stderr.strip() or out.stdout.strip())[:60]
    return dict(cpu_us=float(m.group(3)), sent=int(m.group(1)), received=int(m.group(2)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fedprobe")
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--scrapers", type=int, default=0)
    ap.add_argument("--no-fping", action="store_true")
    # Seconds between a target's probes. Memory per target hardly depends on the rate, so a
    # machine that cannot send 100,000 echoes a second can still measure it at 100,000 targets.
    ap.add_argument("--interval", type=int, default=1)
    ap.add_argument("--floor", help="bench/icmp_floor, run beside fedprobe and fping")
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    every = "second" if a.interval == 1 else f"{a.interval} s"
    print(f"fedprobe run vs fping: {os.cpu_count()} cores, each target once per {every}, 1 echo, "
          f"{a.seconds} s measured\n")
    print(f"{'targets':>8} {'probes/s':>9} {'cpu-us/p':>9} {'failed':>7} {'overld':>7} {'RSS MiB':>8} "
          f"{'after scr':>9} {'MiB+KiB/t':>9} {'scrape MB':>9} {'B/target':>9} {'scrape s':>9} {'gzip MB':>8} {'gzip s':>7} "
          f"{'fping us/p':>10} {'fping/fedprobe':>14} {'floor us/p':>10} {'fedprobe/floor':>14}")
    storms = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, n in enumerate(s for s in sizes for _ in range(a.repeat)):
            # The floor runs just before and just after fedprobe, and the ratio is to their
            # mean: a VM's speed drifts by tens of percent within minutes, and a floor taken on
            # one side alone made the same binary's ratio vary from 0.9 to 2.2.
            fl0 = run_floor(a.floor, n, a.seconds, a.interval)
            f = run_fedprobe(a.fedprobe, n, a.seconds, 19641 + i, tmp, a.scrapers, a.interval)
            if "storm_median" in f:
                storms.append((n, f))
            fl = run_floor(a.floor, n, a.seconds, a.interval)  # before fping: right after fedprobe
            fp = None if a.no_fping else run_fping(n, a.seconds, tmp, a.interval)
            if isinstance(fl0, dict) and isinstance(fl, dict):
                fl = dict(cpu_us=(fl0["cpu_us"] + fl["cpu_us"]) / 2)
            elif fl0 is not None and not isinstance(fl0, dict):
                fl = fl0
            budget = 20 + n / 1024  # #10: at most 20 MiB plus 1 KiB per target
            gz_col = f"{f['gzip'][0]:8.2f} {f['gzip'][1]:7.3f}" if f["gzip"] else f"{'-':>8} {'-':>7}"
            fping_col = f"{fp['cpu_us']:10.2f} {fp['cpu_us'] / f['cpu_us']:13.2f}x" if isinstance(fp, dict) \
                else f"{'-':>10} {fp or ('skipped' if a.no_fping else 'not installed'):>14}"
            floor_col = f"{fl['cpu_us']:10.2f} {f['cpu_us'] / fl['cpu_us']:13.2f}x" if isinstance(fl, dict) \
                else f"{'-':>10} {fl or 'not run':>14}"
            print(f"{n:8d} {f['probes_s']:9.0f} {f['cpu_us']:9.2f} {f['failed']:7d} {f['overloaded']:7d} "
                  f"{f['rss0']:8.1f} {f['rss1']:9.1f} {budget:9.1f} {f['body_mb']:9.2f} {f['per_target_b']:9.0f} "
                  f"{f['scrape_s']:9.3f} {gz_col} {fping_col} {floor_col}", flush=True)
    if storms:
        print(f"\n{a.scrapers} concurrent scrapes while probing:")
        print(f"{'targets':>8} {'median s':>9} {'slowest s':>9} {'not whole':>9} {'lag quiet ms':>12} "
              f"{'lag during ms':>13} {'failed':>7} {'RSS after':>9} {'peak RSS':>9}")
        for n, f in storms:
            print(f"{n:8d} {f['storm_median']:9.3f} {f['storm_max']:9.3f} {f['storm_bad']:9d} "
                  f"{f['lag_quiet_ms']:12.3f} {f['lag_storm_ms']:13.3f} {f['storm_failed']:7d} "
                  f"{f['rss_storm']:9.1f} {f['hwm']:9.1f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
