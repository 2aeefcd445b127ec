#!/usr/bin/env bash
# fedprobe(8) against the binary's own --help: the same commands, and for each command the same
# options, both ways (nothing missing from the page, nothing on it that the binary lacks); and
# the page renders without a single groff warning (lintian runs the same check).
set -euo pipefail
: "${FEDPROBE:?}" "${SOURCE_ROOT:?}"
page="$SOURCE_ROOT/doc/fedprobe.8"
warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null)
[ -z "$warnings" ] || { echo "FAIL: groff warnings on fedprobe.8:"; echo "$warnings"; exit 1; }
python3 - "$FEDPROBE" "$page" <<'PY'
import re, subprocess, sys
exe, page = sys.argv[1:]
text = subprocess.run(["groff", "-man", "-Tascii", "-P-cbou", page], capture_output=True, text=True,
                      check=True).stdout
OPT = re.compile(r"(?<![\w-])(--[a-z][a-z-]*|-[a-z])(?![\w-])")

def help_of(*args):
    return subprocess.run([exe, *args, "--help"], capture_output=True, text=True, check=True).stdout

top = help_of()
commands = re.findall(r"^  ([a-z]+)\s{2,}", top.split("commands:", 1)[1], re.M)
section = text.split("\nCOMMANDS\n", 1)[1].split("\nSIGNALS\n", 1)[0]
chunks = re.split(r"^   (fedprobe [a-z]+|Options of every command)$", section, flags=re.M)
on_page = {chunks[i]: chunks[i + 1] for i in range(1, len(chunks), 2)}
problems = []
page_cmds = sorted(k.split()[1] for k in on_page if k.startswith("fedprobe "))
if page_cmds != sorted(commands):
    problems.append(f"commands: --help has {sorted(commands)}, the page has {page_cmds}")
want = {f"fedprobe {c}": set(OPT.findall(help_of(c))) - {"--help"} for c in commands}
want["Options of every command"] = set(OPT.findall(top.split("commands:", 1)[1].split("\n\n", 1)[1]))
for name, opts in want.items():
    have = set(OPT.findall(on_page.get(name, "")))
    if opts - have:
        problems.append(f"{name}: on --help, not on the page: {sorted(opts - have)}")
    if have - opts:
        problems.append(f"{name}: on the page, not on --help: {sorted(have - opts)}")
    print(f"{name}: {len(opts)} options")
synopsis = " ".join(text.split("\nSYNOPSIS\n", 1)[1].split("\nDESCRIPTION\n", 1)[0].split())
for c in commands:
    if f"fedprobe {c}" not in synopsis:
        problems.append(f"SYNOPSIS lacks fedprobe {c}")
for p in problems:
    print("FAIL:", p)
sys.exit(1 if problems else 0)
PY
echo "ok: fedprobe(8) matches --help"
