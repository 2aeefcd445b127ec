#!/usr/bin/python3
"""Passive capture, as it ships: `fedprobe passive --read` on a synthetic capture against
`tshark -q -z conv,tcp` on the same file, and `fedprobe run` capturing the fastest SYN flood this
machine makes on a veth pair inside a namespace this benchmark creates (and removes).

    sudo bench/capture_bench.py build/daemon/fedprobe build/bench/capture_gen \\
        [--packets 10000000] [--repeat 3] [--live-seconds 10] [--no-tshark] [--no-live]

Offline: both pinned to one core (taskset -c 1); CPU from wait4 (user + sys), so the time to
start and to read the config counts too. Live: the generator (AF_PACKET, sendmmsg of 32
handshakes, each a SYN and its SYN-ACK) on core 0, the daemon on core 1; what it captured and what the kernel dropped come from its
own metrics. Prints numbers; asserts nothing."""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, "bench", "capture.toml")


def run_measured(argv, stdout=subprocess.DEVNULL):
    """Runs argv to the end; returns (wall s, cpu s, peak RSS MiB, exit code)."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode


def offline(args, work):
    capture = os.path.join(work, "synthetic.pcap")
    subprocess.run([args.capture_gen, "file", capture, str(args.packets)], check=True,
                   stdout=subprocess.DEVNULL)
    size = os.path.getsize(capture)
    print(f"synthetic capture: {args.packets:,} packets, {size / 1e6:.0f} MB "
          "(SYN, SYN-ACK or RST, FINs, ICMP errors; 33,000 handshakes/s)")
    runs = []
    for _ in range(args.repeat):
        out = os.path.join(work, "fedprobe.json")
        with open(out, "w") as f:
            wall, cpu, rss, rc = run_measured(["taskset", "-c", "1", args.fedprobe, "passive",
                                               "--config", CONFIG, "--read", capture,
                                               "--format", "json"], stdout=f)
        if rc != 0:
            sys.exit(f"fedprobe passive exited {rc}")
        runs.append((wall, cpu, rss))
    runs.sort()
    wall, cpu, rss = runs[len(runs) // 2]
    print(f"{'':28} {'wall s':>8} {'CPU s':>8} {'packets/s (wall)':>17} {'peak RSS MiB':>13}")
    print(f"{'fedprobe passive --read':28} {wall:8.2f} {cpu:8.2f} {args.packets / wall:17,.0f} "
          f"{rss:13.1f}   (median of {args.repeat})")
    if args.no_tshark or not shutil.which("tshark"):
        return
    t_wall, t_cpu, t_rss, rc = run_measured(["taskset", "-c", "1", "tshark", "-q", "-z",
                                             "conv,tcp", "-r", capture])
    if rc != 0:
        sys.exit(f"tshark exited {rc}")
    print(f"{'tshark -q -z conv,tcp':28} {t_wall:8.2f} {t_cpu:8.2f} "
          f"{args.packets / t_wall:17,.0f} {t_rss:13.1f}")
    print(f"fedprobe is {t_wall / wall:.1f}x faster than tshark (wall), {t_cpu / cpu:.1f}x (CPU)")


def scrape(ns):
    out = subprocess.run(["ip", "netns", "exec", ns, "curl", "-sf", "--max-time", "5",
                          "http://127.0.0.1:9641/metrics"], capture_output=True, text=True)
    return out.stdout


def metric(text, name, labels=""):
    m = re.search(r"^" + re.escape(name) + r"\{[^}]*" + labels + r"[^}]*\} (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def thread_cpu_s(pid):
    with open(f"/proc/{pid}/task/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e9


def live(args):
    ns = f"fpcapbench-{os.getpid()}"
    daemon = None
    try:
        subprocess.run(["ip", "netns", "add", ns], check=True)
        ex = ["ip", "netns", "exec", ns]
        subprocess.run(ex + ["ip", "link", "set", "lo", "up"], check=True)
        subprocess.run(ex + ["ip", "link", "add", "fpcap0", "type", "veth", "peer", "name",
                             "fpcap1"], check=True)
        for itf in ("fpcap0", "fpcap1"):
            subprocess.run(ex + ["ip", "link", "set", itf, "up"], check=True)
        daemon = subprocess.Popen(ex + ["taskset", "-c", "1", args.fedprobe, "run", "--config",
                                        CONFIG], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        for _ in range(100):
            if metric(scrape(ns), "fedprobe_passive_interface_up", 'interface="fpcap0"') == 1:
                break
            time.sleep(0.1)
        else:
            sys.exit("the daemon did not start capturing on fpcap0")
        pid = int(subprocess.run(["pgrep", "-n", "-f", f"fedprobe run --config {CONFIG}"],
                                 capture_output=True, text=True).stdout.split()[0])
        before = scrape(ns)
        cpu0 = thread_cpu_s(pid)
        gen = subprocess.run(ex + ["taskset", "-c", "0", args.capture_gen, "live", "fpcap1",
                                   str(args.live_seconds)], capture_output=True, text=True,
                             check=True)
        sent, seconds = gen.stdout.split()
        sent, seconds = int(sent), float(seconds)
        time.sleep(2)  # the daemon reads what its buffer holds and reports each second
        cpu = thread_cpu_s(pid) - cpu0
        after = scrape(ns)

        def delta(name, labels=""):
            return (metric(after, name, labels) or 0) - (metric(before, name, labels) or 0)

        syns = delta("fedprobe_passive_syns_total")
        packets = delta("fedprobe_passive_packets_total", 'interface="fpcap0"')
        drops = delta("fedprobe_passive_kernel_drops_total", 'interface="fpcap0"')
        full = delta("fedprobe_passive_flow_table_full_total")
        ok = delta("fedprobe_passive_handshakes_total", 'outcome="ok"')
        print(f"live: {sent:,} frames (a SYN and its SYN-ACK each) sent in {seconds:.1f} s "
              f"({sent / seconds:,.0f}/s, the generator's fastest on one core)")
        print(f"      captured {packets:,.0f} ({100 * packets / sent:.2f}%), kernel drops "
              f"{drops:,.0f}; {syns:,.0f} SYNs, {ok:,.0f} handshakes ok, {full:,.0f} not "
              f"followed (table full); capturing thread CPU {cpu:.2f} s "
              f"({1e6 * cpu / max(packets, 1):.2f} us/packet)")
    finally:
        if daemon:
            daemon.terminate()
            daemon.wait()
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("fedprobe")
    p.add_argument("capture_gen")
    p.add_argument("--packets", type=int, default=10_000_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--live-seconds", type=float, default=10)
    p.add_argument("--no-tshark", action="store_true")
    p.add_argument("--no-live", action="store_true")
    args = p.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    if os.geteuid() != 0:
        sys.exit("capture_bench needs root (namespaces, AF_PACKET)")
    work = tempfile.mkdtemp(prefix="capture_bench.", dir="/var/tmp")
    try:
        offline(args, work)
    finally:
        shutil.rmtree(work)
    if not args.no_live:
        live(args)


if __name__ == "__main__":
    main()
