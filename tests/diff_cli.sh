#!/usr/bin/env bash
# fedprobe diff on the lab's own federation file and changed copies of it: the same file (and
# one with a comment added) exits 0; a change board's changes are listed under each
# organisation they touch, as a table and as JSON, exiting 1; a file that does not validate, a
# missing file and a wrong command line exit 2 and say why.
source "$(dirname "$0")/lib.sh"  # WORK, fail, pass (no namespace: diff reads files only)
old="$SOURCE_ROOT/lab/federation.toml"
run() { rc=0; out=$("$FEDPROBE" diff "$@" 2>&1) || rc=$?; }

run "$old" "$old"
[ $rc = 0 ] && grep -q "say the same" <<<"$out" || fail "the same file: exit 0 ($rc): $out"
{ echo "# approved by the change board, 2026-12-06"; cat "$old"; } >"$WORK/commented.toml"
run "$old" "$WORK/commented.toml"
[ $rc = 0 ] || fail "a comment is not a change ($rc): $out"
pass "the same policy, commented or not: exit 0"

# The change: MLLP from the councils is denied; brighton-psn's echo service moves port; a new
# PACS target in kent-nhs; the interval halves.
python3 - "$old" "$WORK/new.toml" <<'PY'
import sys
s = open(sys.argv[1]).read()
s = s.replace('note = "HL7 ADT feed to the council care systems"', 'note = "HL7 ADT feed to the council care systems"\nexpect = "deny"', 1)
i = s.index('id = "councils-to-kent-nhs-mllp"'); j = s.index('expect = "allow"', i)
s = s[:j] + s[j + len('expect = "allow"\n'):]
s = s.replace('echo  = { proto = "udp", port = 7 }', 'echo  = { proto = "udp", port = 7007 }', 1)
s = s.replace('interval = "5s"', 'interval = "10s"', 1)
s += '\n[[targets]]\nid = "kent-nhs-pacs"\nnetwork = "kent-nhs"\naddress = "10.31.2.30"\nprobes = ["tcp:dicom"]\n'
open(sys.argv[2], "w").write(s)
PY
"$FEDPROBE" validate --config "$WORK/new.toml" >/dev/null 2>&1 || fail "the changed file validates: $("$FEDPROBE" validate --config "$WORK/new.toml" 2>&1)"
run "$old" "$WORK/new.toml"
[ $rc = 1 ] || fail "files that differ exit 1 ($rc): $out"
grep -q "4 changes" <<<"$out" || fail "four changes: $out"
# Under each organisation it touches: the flow under kent-psn (a source) and kent-nhs (its
# destination); the settings under every appliance, first.
OUT="$out" python3 - <<'PY' || fail "grouped by organisation: $out"
import os, re
text = os.environ["OUT"]
groups = {}
for block in re.split(r"\n\n", text.strip())[1:]:
    name, *lines = block.splitlines()
    groups[name] = "\n".join(lines)
assert list(groups)[0] == "every appliance", list(groups)
assert 'interval "5s" -> "10s"' in groups["every appliance"], groups["every appliance"]
flow = '~ flow councils-to-kent-nhs-mllp: expect "allow" -> "deny"'
for org in ("kent-psn", "surrey-psn", "brighton-psn", "kent-nhs"):
    assert flow in groups[org], (org, groups.get(org))
assert "+ target kent-nhs-pacs" in groups["kent-nhs"], groups["kent-nhs"]
assert '~ service echo: { port = 7, proto = "udp" } -> { port = 7007, proto = "udp" }' in groups["kent-nhs"], groups["kent-nhs"]
assert "kent-nhs-pacs" not in groups["kent-psn"]
PY
pass "a change board's changes, under each organisation they touch: exit 1"

run --format json "$old" "$WORK/new.toml"
[ $rc = 1 ] || fail "json: exit 1 ($rc)"
OUT="$out" python3 - "$old" "$WORK/new.toml" <<'PY' || fail "the JSON: $out"
import hashlib, json, os, sys
d = json.loads(os.environ["OUT"])
assert d["version"] == 1
assert d["before"]["sha256"] == hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest()
assert d["after"]["sha256"] == hashlib.sha256(open(sys.argv[2], "rb").read()).hexdigest()
flow = [c for c in d["changes"] if c["what"] == "flow"][0]
assert flow["change"] == "changed" and flow["keys"] == [{"key": "expect", "before": '"allow"', "after": '"deny"'}], flow
assert {"kent-psn", "kent-nhs"} <= set(flow["organisations"])
PY
pass "JSON: each file's SHA-256 (as fedprobe_config_info), and each change's keys and organisations"

printf '[fedprobe]\nsite = "kent-nhs"\n[[targets]]\nid = "x"\n' >"$WORK/bad.toml"
run "$old" "$WORK/bad.toml"
[ $rc = 2 ] && grep -q "bad.toml:" <<<"$out" && grep -q "does not validate" <<<"$out" || fail "a file that does not validate: exit 2, located ($rc): $out"
run "$old" "$WORK/nosuch.toml"
[ $rc = 2 ] && grep -q "nosuch.toml: " <<<"$out" || fail "a missing file: exit 2 ($rc): $out"
run "$old"
[ $rc = 2 ] && grep -q "needs two federation files" <<<"$out" || fail "one file: exit 2 ($rc): $out"
run "$old" "$old" "$old"
[ $rc = 2 ] && grep -q "a third" <<<"$out" || fail "three files: exit 2 ($rc): $out"
run --format yaml "$old" "$old"
[ $rc = 2 ] || fail "an unknown format: exit 2 ($rc)"
pass "errors: a file that does not validate, a missing file, one or three files, a bad format: exit 2"
