#!/usr/bin/env python3
"""A live reachability matrix in the terminal, read from fedprobe daemons' /metrics.

Each source is SITE=URL, or SITE=URL@NETNS to scrape a daemon inside a network namespace.
Rows are (site, target), columns are probes; a cell shows the outcome and, for failures,
which device said so. Refreshes until Ctrl-C.
"""
import argparse
import re
import subprocess
import sys
import time

LINE = re.compile(r'^(\w+)\{(.*)\} (\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
COLOURS = {"ok": "32", "refused": "33", "filtered": "31", "prohibited": "35", "unreachable": "31", "error": "36",
           "mismatch": "33", "tls_error": "35", "app_blocked": "31"}


def scrape(url, netns):
    cmd = ["curl", "-sf", "--max-time", "2", url]
    if netns:
        cmd = ["ip", "netns", "exec", netns] + cmd
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=5).stdout
    except subprocess.TimeoutExpired:
        return ""


def parse(text):
    """(target, probe-column) -> (outcome, reporter) from success and last_error_info."""
    cells = {}
    for line in text.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        name, labels, value = m.group(1), dict(LABEL.findall(m.group(2))), m.group(3)
        key = (labels.get("network", ""), labels.get("target", ""))
        col = labels.get("probe", "") + (":" + labels["service"] if labels.get("service") else "")
        if name == "fedprobe_probe_success":
            state = "ok" if value == "1" else ("…" if value.lower() == "nan" else cells.get((key, col), ("?", ""))[0])
            if (key, col) not in cells or state == "ok":
                cells[(key, col)] = (state, "")
        elif name == "fedprobe_probe_last_error_info":
            reporter = labels.get("reporter", "")
            if labels.get("reporter_network"):
                reporter += " (" + labels["reporter_network"] + ")"
            cells[(key, col)] = (labels.get("outcome", "?"), reporter)
    return cells


SHORT = {"ok": "ok", "refused": "RST", "filtered": "drop", "prohibited": "PROHIB", "unreachable": "UNREACH",
         "error": "err", "mismatch": "WRONG", "tls_error": "TLS", "app_blocked": "L7DROP", "…": "…", "?": "?"}


def render_by_network(sources, colour):
    """One block per probe column: sites down, target networks across, as in a federation's
    reachability matrix; a cell is the worst outcome over that network's targets."""
    rank = {"ok": 0, "…": 1, "refused": 2, "filtered": 3, "prohibited": 3, "unreachable": 3, "mismatch": 3, "tls_error": 3, "app_blocked": 3, "error": 4, "?": 5}
    data = {}
    for site, url, netns in sources:
        data[site] = parse(scrape(url, netns))
    cols = sorted({c for cells in data.values() for (_, c) in cells})
    nets = sorted({k[0] for cells in data.values() for (k, _) in cells})
    out = [time.strftime("fedprobe reachability matrix  %H:%M:%S  (Ctrl-C to stop)"),
           "rows: the site probing; columns: the network probed; RST refused, drop filtered, PROHIB rejected by a firewall, WRONG unexpected answer, TLS certificate or handshake failed", ""]
    width = max([len(s) for s, _, _ in sources] + [4])
    for col in cols:
        out.append(col.ljust(width + 3) + "".join(n[:13].ljust(14) for n in nets))
        for site, _, _ in sources:
            line = "  " + site.ljust(width + 1)
            for net in nets:
                states = [st for (k, c), (st, _) in data[site].items() if c == col and k[0] == net]
                state = max(states, key=lambda x: rank.get(x, 5)) if states else ""
                cell = SHORT.get(state, state).ljust(14)
                if colour and state in COLOURS:
                    cell = f"\033[{COLOURS[state]}m{cell}\033[0m"
                line += cell
            out.append(line)
        out.append("")
    return "\n".join(out)


def render(sources, colour):
    out = [time.strftime("fedprobe reachability  %H:%M:%S  (Ctrl-C to stop)"), ""]
    for site, url, netns in sources:
        text = scrape(url, netns)
        out.append(f"from {site}  [{url}" + (f" in netns {netns}" if netns else "") + "]")
        if not text:
            out.append("  (no answer from the daemon yet)")
            out.append("")
            continue
        cells = parse(text)
        cols = sorted({c for (_, c) in cells})
        rows = sorted({k for (k, _) in cells})
        width = max([len(f"{n}/{t}") for n, t in rows] + [10])
        out.append("  " + "target".ljust(width) + "  " + "".join(c.ljust(14) for c in cols))
        notes = []
        for row in rows:
            line = "  " + f"{row[0]}/{row[1]}".ljust(width) + "  "
            for c in cols:
                state, reporter = cells.get((row, c), ("", ""))
                cell = state.ljust(14)
                if colour and state in COLOURS:
                    cell = f"\033[{COLOURS[state]}m{cell}\033[0m"
                line += cell
                if reporter and state != "ok":
                    notes.append(f"    {row[1]} {c}: {state} reported by {reporter}")
            out.append(line)
        out.extend(notes)
        out.append("")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sources", nargs="+", help="SITE=URL or SITE=URL@NETNS")
    ap.add_argument("--once", action="store_true", help="print one matrix and exit")
    ap.add_argument("--interval", type=float, default=2.0)
    ap.add_argument("--by-network", action="store_true", help="sites x networks, one block per probe")
    args = ap.parse_args()
    sources = []
    for s in args.sources:
        site, _, rest = s.partition("=")
        url, _, netns = rest.partition("@")
        if not site or not url:
            ap.error(f"'{s}' is not SITE=URL[@NETNS]")
        sources.append((site, url, netns))
    colour = sys.stdout.isatty()
    draw = render_by_network if args.by_network else render
    if args.once:
        print(draw(sources, colour))
        return
    try:
        while True:
            frame = draw(sources, colour)
            sys.stdout.write("\033[H\033[2J" + frame + "\n" if colour else frame + "\n\n")
            sys.stdout.flush()
            time.sleep(args.interval)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
