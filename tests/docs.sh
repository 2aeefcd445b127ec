#!/usr/bin/env bash
# The documentation against the code, both ways, as man_page.sh holds fedprobe(8) to --help:
# every series name the code writes is in doc/metrics.md and every fedprobe_ name there is one
# the code writes; every key the loader accepts is in doc/configuration.md and every key its
# tables list is one the loader accepts. The README stays a front page (under 300 lines) whose
# links lead somewhere.
set -euo pipefail
: "${SOURCE_ROOT:?}"
cd "$SOURCE_ROOT"
python3 - <<'PY'
import glob, os, re, sys

problems = []
def src(*dirs):
    for d in dirs:
        for f in sorted(glob.glob(d + "/**/*.cpp", recursive=True) + glob.glob(d + "/**/*.hpp", recursive=True) + glob.glob(d + "/*.in")):
            yield f, open(f).read()

# Series names: closed literals "fedprobe_x", and the names the hand-written expositions
# start a line with ("fedprobe_x{" or "# HELP fedprobe_x ").
code_metrics = set()
for f, s in src("exporters", "probes", "capture", "daemon", "engine", "policy"):
    if f.startswith("policy/"):
        continue  # policy reads series by name; it writes none
    code_metrics |= set(re.findall(r'"(fedprobe_[a-z0-9_]*[a-z0-9])"', s))
    code_metrics |= set(re.findall(r'"(fedprobe_[a-z0-9_]*[a-z0-9])\{', s))
    code_metrics |= set(re.findall(r'# (?:HELP|TYPE) (fedprobe_[a-z0-9_]*[a-z0-9]) ', s))
doc = open("doc/metrics.md").read()
doc_metrics = set(re.findall(r"\bfedprobe_[a-z0-9_]*[a-z0-9]\b", doc))
base = lambda m: re.sub(r"_(bucket|sum|count)$", "", m)
for m in sorted(code_metrics - doc_metrics):
    problems.append(f"doc/metrics.md does not name {m}, which the code writes")
for m in sorted(doc_metrics):
    if m not in code_metrics and base(m) not in code_metrics:
        problems.append(f"doc/metrics.md names {m}, which no code writes")

# Config keys: those the loader's check_keys lists accept (and the target's own list, with
# every probe kind's table).
code_keys = set()
for f, s in src("federation", "probes", "capture", "config"):
    for m in re.finditer(r"check_keys\([^{;]*\{([^{}]*)\}", s):
        code_keys |= set(re.findall(r'"([a-z_]+)"', m.group(1)))
    for m in re.finditer(r"std::vector<std::string_view> keys = \{([^{}]*)\}", s):
        code_keys |= set(re.findall(r'"([a-z_]+)"', m.group(1)))
    # key lists a few kinds share (kTlsKeys)
    for m in re.finditer(r"std::string_view k\w+Keys\[\] = \{([^{}]*)\}", s):
        code_keys |= set(re.findall(r'"([a-z_]+)"', m.group(1)))
kinds = re.search(r"using Kinds =\s*KindList<([^>]*)>", open("probes/kinds.hpp").read())
for k in re.findall(r"(\w+)Kind\b", kinds.group(1) if kinds else ""):
    code_keys.add(k.lower())
if len(code_keys) < 50:
    problems.append(f"only {len(code_keys)} keys found in the loader: the scan is broken")
conf = open("doc/configuration.md").read()
doc_ticked = set()
for t in re.findall(r"`([^`]+)`", conf):
    doc_ticked |= set(re.findall(r"[a-z_]+", t))
for k in sorted(code_keys - doc_ticked):
    problems.append(f"doc/configuration.md does not name the key {k}, which the loader accepts")
# The first column of every key table: each name in it is a key (dotted: each part).
for row in re.findall(r"^\| ((?:`[^`]+`(?:, )?)+) \|", conf, re.M):
    for key in re.findall(r"`([^`]+)`", row):
        for part in key.split("."):
            if re.fullmatch(r"[a-z_]+", part) and part not in code_keys:
                problems.append(f"doc/configuration.md lists the key {key}, which the loader does not accept")

readme = open("README.md").read()
if readme.count("\n") >= 300:
    problems.append(f"README.md has {readme.count(chr(10))} lines: a front page has under 300")
for link in re.findall(r"\]\(([^)#]+)", readme):
    if not link.startswith("http") and not os.path.exists(link):
        problems.append(f"README.md links to {link}, which does not exist")

for p in problems:
    print("FAIL:", p)
print(f"{len(code_metrics)} series and {len(code_keys)} keys held to doc/; {len(problems)} problems")
sys.exit(1 if problems else 0)
PY
