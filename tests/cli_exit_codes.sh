#!/usr/bin/env bash
# The command line as a user meets it: exit codes, messages, FILE:LINE:COLUMN diagnostics.
source "$(dirname "$0")/lib.sh"

expect_exit() {  # code description command...
    local want=$1 what=$2; shift 2
    set +e; "$@" >"$WORK/out" 2>&1; local got=$?; set -e
    [ "$got" -eq "$want" ] || { cat "$WORK/out"; fail "$what: exit $got, wanted $want"; }
    pass "$what (exit $want)"
}

expect_exit 0 "--version" "$FEDPROBE" --version
grep -q "^fedprobe [0-9]" "$WORK/out" || fail "--version prints the version"
expect_exit 0 "--help" "$FEDPROBE" --help
expect_exit 0 "run --help" "$FEDPROBE" run --help
grep -q "usage: fedprobe run" "$WORK/out" || fail "run --help shows run's usage"
expect_exit 2 "no command" "$FEDPROBE"
expect_exit 2 "unknown option" "$FEDPROBE" run --config x --bogus
grep -q "unknown option '--bogus'" "$WORK/out" || fail "unknown option is named"
expect_exit 0 "validate example" "$FEDPROBE" validate --config "$SOURCE_ROOT/config/examples/federation.toml"
expect_exit 0 "validate as another site" "$FEDPROBE" validate --config "$SOURCE_ROOT/config/examples/federation.toml" --site brighton-psn

cat >"$WORK/bad.toml" <<'TOML'
[fedprobe]
site = "kent-nhs"
intervl = "15s"

[[networks]]
id = "kent-nhs"
prefixes = ["10.31.0.0/16"]

[[targets]]
id = "x"
network = "nowhere"
address = "10.31.0.1"
probes = ["icmp"]
TOML
expect_exit 1 "validate bad file" "$FEDPROBE" validate --config "$WORK/bad.toml"
grep -q "bad.toml:3:1: error: unknown key 'intervl' in \[fedprobe\] (did you mean 'interval'?)" "$WORK/out" || { cat "$WORK/out"; fail "typo located"; }
grep -q "bad.toml:11:11: error: target 'x': network 'nowhere' is not declared" "$WORK/out" || { cat "$WORK/out"; fail "bad reference located"; }
expect_exit 1 "run refuses a bad file" "$FEDPROBE" run --config "$WORK/bad.toml"
expect_exit 1 "validate missing file" "$FEDPROBE" validate --config "$WORK/none.toml"
grep -q "none.toml: error: cannot open the file: No such file or directory" "$WORK/out" || fail "missing file explained"

# Only regular files, at most 16 MiB, and never a wait: /dev/zero grew to 2 GB and a FIFO
# blocked forever before.
expect_exit 1 "validate /dev/zero" timeout 5 "$FEDPROBE" validate --config /dev/zero
grep -q "/dev/zero: error: is a character device, not a regular file" "$WORK/out" || { cat "$WORK/out"; fail "/dev/zero explained"; }
expect_exit 1 "validate a directory" "$FEDPROBE" validate --config "$WORK"
grep -q "error: is a directory, not a regular file" "$WORK/out" || { cat "$WORK/out"; fail "directory explained"; }
mkfifo "$WORK/fifo"
expect_exit 1 "validate a FIFO without a writer" timeout 5 "$FEDPROBE" validate --config "$WORK/fifo"
grep -q "error: is a FIFO, not a regular file" "$WORK/out" || { cat "$WORK/out"; fail "FIFO explained"; }
head -c 17000000 /dev/zero | tr '\0' '#' >"$WORK/huge.toml"
expect_exit 1 "run refuses a 17 MB file" timeout 5 "$FEDPROBE" run --config "$WORK/huge.toml"
grep -q "huge.toml: error: is 17000000 bytes; a config file may be at most 16777216 (16 MiB)" "$WORK/out" || { cat "$WORK/out"; fail "size limit explained"; }

# Strict command line: nothing given is silently ignored or overridden.
expect_exit 2 "a repeated --config" "$FEDPROBE" validate --config "$WORK/bad.toml" -c "$SOURCE_ROOT/config/examples/federation.toml"
grep -q "option --config is given more than once" "$WORK/out" || { cat "$WORK/out"; fail "repeated --config named"; }
expect_exit 2 "--version extra" "$FEDPROBE" --version extra
grep -q "takes no arguments" "$WORK/out" || { cat "$WORK/out"; fail "--version extra named"; }

# Located "no site", and a huge key echoed short.
printf '[[networks]]\nid = "a"\nprefixes = ["127.0.0.0/8"]\n' >"$WORK/nosite.toml"
expect_exit 1 "no site" "$FEDPROBE" validate --config "$WORK/nosite.toml"
grep -q "nosite.toml:1:1: error: no site" "$WORK/out" || { cat "$WORK/out"; fail "no site located"; }
{ printf '[fedprobe]\nsite = "a"\n'; head -c 8000000 /dev/zero | tr '\0' k; printf ' = 1\n[[networks]]\nid = "a"\nprefixes = ["127.0.0.0/8"]\n'; } >"$WORK/longkey.toml"
expect_exit 1 "an 8 MB key" "$FEDPROBE" validate --config "$WORK/longkey.toml"
[ "$(wc -c <"$WORK/out")" -lt 400 ] || fail "an 8 MB key gave $(wc -c <"$WORK/out") bytes of output"
grep -q "longkey.toml:3:1: error: unknown key 'kkkk.*'...(8000000 bytes) in \[fedprobe\]" "$WORK/out" || { cat "$WORK/out"; fail "long key cut short"; }
pass "an 8 MB key is echoed in $(wc -c <"$WORK/out") bytes"

# Files the commands read whole are bounded and must be regular files: /dev/zero is no scrape,
# baseline or source, and standard input stops at 64 MiB.
ex="$SOURCE_ROOT/config/examples/federation.toml"
expect_exit 2 "mesh /dev/zero" "$FEDPROBE" mesh --config "$ex" /dev/zero
grep -q "cannot read /dev/zero: is a character device, not a regular file" "$WORK/out" || fail "mesh says why"
expect_exit 2 "check --baseline /dev/zero" "$FEDPROBE" check --config "$ex" --baseline /dev/zero --no-trace
grep -q "/dev/zero: cannot read the baseline: is a character device" "$WORK/out" || fail "check says why"
expect_exit 2 "blame /dev/zero" "$FEDPROBE" blame --config "$ex" /dev/zero
grep -q "^PARTIAL: 1 source(s) could not be read" "$WORK/out" || fail "blame says its verdicts are partial"
set +e; head -c $((65 << 20)) /dev/zero | "$FEDPROBE" blame --config "$ex" - >"$WORK/out" 2>&1; got=$?; set -e
[ $got = 2 ] && grep -q "stdin: more than 64 MiB" "$WORK/out" || { cat "$WORK/out"; fail "blame - stops at 64 MiB ($got)"; }
expect_exit 2 "blame without a source" "$FEDPROBE" blame --config "$ex"
grep -q "'blame' needs a SOURCE" "$WORK/out" || fail "blame says what it needs"
expect_exit 2 "blame --serve not an address" "$FEDPROBE" blame --config "$ex" --serve nowhere /dev/null
grep -q "is not ADDRESS:PORT" "$WORK/out" || fail "blame --serve says why"
pass "bounded inputs: mesh, check --baseline and blame refuse /dev/zero and stop stdin at 64 MiB"
expect_exit 2 "check --flow that matches nothing" "$FEDPROBE" check --config "$SOURCE_ROOT/lab/federation.toml" --site kent-psn --flow nosuch --no-trace
grep -q "fedprobe check: --flow 'nosuch' matches none of kent-psn's flows: " "$WORK/out" || { cat "$WORK/out"; fail "check names the flows it knows"; }
pass "check --flow matching nothing exits 2 and names the site's flows"
