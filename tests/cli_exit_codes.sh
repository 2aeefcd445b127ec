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
grep -q "cannot read the file" "$WORK/out" || fail "missing file explained"
