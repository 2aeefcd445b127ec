#!/usr/bin/env python3
"""A live reachability matrix in the terminal, read from fedprobe daemons' /metrics.

Each source is SITE=URL, or SITE=URL@NETNS to scrape a daemon inside a network namespace.
By default one table that fits the terminal: sites down, networks across, each cell the worst
result that differs from what the config expects, and below it where each one is (the device
that answered, or where a flow dies). --detail: every probe; --by-network: one block per probe
kind. Refreshes until Ctrl-C.
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


def parse_compact(text):
    """network -> {"unexpected": [(target, probe-column, outcome, where)], "expected": n,
    "flows_bad": [(flow, state, where)], "probes": n} from one daemon's exposition: a probe counts
    only when it ends otherwise than the config expects (fedprobe_probe_as_expected 0)."""
    jobs, errors, flows, blocked = {}, {}, {}, {}
    for line in text.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        name, labels, value = m.group(1), dict(LABEL.findall(m.group(2))), m.group(3)
        col = labels.get("probe", "") + (":" + labels["service"] if labels.get("service") else "")
        key = (labels.get("network", ""), labels.get("target", ""), col)
        if name == "fedprobe_probe_as_expected":
            jobs[key] = value
        elif name == "fedprobe_probe_last_error_info":
            where = labels.get("reporter", "")
            if labels.get("reporter_network"):
                where += " (" + labels["reporter_network"] + ")"
            errors[key] = (labels.get("outcome", "?"), where)
        elif name == "fedprobe_flow_compliant":
            flows[(labels.get("network", ""), labels.get("flow", ""), labels.get("to", ""))] = value
        elif name == "fedprobe_flow_state" and value == "1":
            flows[("state", labels.get("flow", ""), labels.get("to", ""))] = labels.get("state", "")
        elif name == "fedprobe_flow_blocked_after_info":
            blocked[(labels.get("flow", ""), labels.get("to", ""))] = (
                f"after {labels.get('hop', '')} ({labels.get('hop_network', '')}), hop {labels.get('ttl', '')}")
    nets = {}
    for (net, target, col), value in jobs.items():
        cell = nets.setdefault(net, {"unexpected": [], "expected": 0, "flows_bad": [], "probes": 0})
        cell["probes"] += 1
        outcome, where = errors.get((net, target, col), ("ok", ""))
        if value == "0":
            cell["unexpected"].append((target, col, outcome, where))
        elif value == "1" and outcome != "ok":
            cell["expected"] += 1
    for (net, flow, to), value in flows.items():
        if net == "state" or value != "0":
            continue
        cell = nets.setdefault(net, {"unexpected": [], "expected": 0, "flows_bad": [], "probes": 0})
        cell["flows_bad"].append((flow, flows.get(("state", flow, to), "?"),
                                  blocked.get((flow, to), "")))
    return nets


RANK = {"ok": 0, "…": 1, "refused": 2, "mismatch": 3, "tls_error": 3, "filtered": 4, "prohibited": 4,
        "unreachable": 4, "app_blocked": 4, "error": 5, "?": 6}


def render_compact(sources, colour, rows=None):
    """One table that fits a terminal: sites down, networks across; a cell is the worst outcome
    that differs from what the config expects (a denied service stopped, a target declared to
    fail, is as expected), or a flow of the policy that does not comply; below, where each is."""
    import shutil
    cols, lines = shutil.get_terminal_size((120, 40))
    rows = rows or lines
    data = {site: parse_compact(scrape(url, netns)) for site, url, netns in sources}
    nets = sorted({n for cells in data.values() for n in cells})
    width = max([len(s) for s, _, _ in sources] + [4]) + 2
    cw = max(7, min(14, (cols - width) // max(1, len(nets))))
    out = [time.strftime("fedprobe  %H:%M:%S  sites (rows) x networks (columns): the worst result that "
                         "differs from what the config expects"),
           "".ljust(width) + "".join(n[:cw - 1].ljust(cw) for n in nets)]
    notes, expected = [], 0
    for site, _, _ in sources:
        line = site.ljust(width)
        cells = data[site]
        for net in nets:
            cell = cells.get(net)
            if cell is None:
                text, state = "", ""
            elif not cell["unexpected"] and not cell["flows_bad"]:
                text, state = ("ok" if cell["probes"] else "…"), "ok"
            else:
                worst = max(cell["unexpected"], key=lambda u: RANK.get(u[2], 6), default=None)
                state = worst[2] if worst else "filtered"
                text = SHORT.get(state, state) if worst else "FLOW"
                n = len(cell["unexpected"]) + len(cell["flows_bad"])
                text += f" ×{n}" if n > 1 else ""
                for target, col, outcome, where in cell["unexpected"]:
                    notes.append(f"{site} → {net}: {target} {col} {outcome}" + (f", reported by {where}" if where else ""))
                for flow, st, where in cell["flows_bad"]:
                    notes.append(f"{site} → {net}: flow {flow} {st}" + (f", dies {where}" if where else ""))
            if cell:
                expected += cell["expected"]
            text = text[:cw - 1].ljust(cw)
            if colour and state in COLOURS:
                text = f"\033[{COLOURS[state]}m{text}\033[0m"
            line += text
        out.append(line)
    out.append("")
    out.append(f"{expected} probes fail as the config expects (services the policy denies, stopped; "
               "targets declared to fail): not shown. --detail shows every probe.")
    room = max(1, rows - len(out) - 2)
    if notes:
        out.append("where:")
        out.extend("  " + n for n in notes[:room])
        if len(notes) > room:
            out.append(f"  … and {len(notes) - room} more (--detail)")
    else:
        out.append("nothing differs from what the config expects.")
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
    ap.add_argument("--by-network", action="store_true",
                    help="sites x networks, one block per probe (every probe, expected or not)")
    ap.add_argument("--detail", action="store_true",
                    help="every probe of every site, with its outcome (the default: one compact table "
                         "of what differs from what the config expects)")
    ap.add_argument("--rows", type=int, help="lines to fit in (default: the terminal's)")
    args = ap.parse_args()
    sources = []
    for s in args.sources:
        site, _, rest = s.partition("=")
        url, _, netns = rest.partition("@")
        if not site or not url:
            ap.error(f"'{s}' is not SITE=URL[@NETNS]")
        sources.append((site, url, netns))
    colour = sys.stdout.isatty()
    if args.detail:
        draw = render
    elif args.by_network:
        draw = render_by_network
    else:
        draw = lambda src, c: render_compact(src, c, args.rows)
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
