# Shared by the tests that run fedprobe in the lab federation: a private lab (FEDPROBE_LAB set
# by the caller), the lab's config made faster, daemons in chosen appliances, and cleanup.
set -euo pipefail
: "${FEDPROBE:?}" "${SOURCE_ROOT:?}" "${FEDPROBE_LAB:?}"
LABD="$SOURCE_ROOT/lab"
source "$LABD/common.sh"
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    "$LABD/federation" down >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
    local f
    for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }; done
    echo "FAIL: $*" >&2  # last: CI shows a failing test's output from its end
    exit 1
}
pass() { echo "ok: $*"; }

# The lab's federation file with its state paths, cut before its targets and flows: the
# networks, services and settings, for a test that adds only the targets it means.
lab_config_without_targets() {  # output file
    sed -e '/^\[\[targets\]\]/,$d' -e "s|/run/fedprobe-lab/fpl/|$STATE/|g" "$LABD/federation.toml" >"$1"
}

# org codes...: the lab up, a daemon per appliance, probing every second; LAB_PATH_INTERVAL, when
# set, replaces the lab's 30 s path interval (path.mtu's search included).
start_lab_daemons() {
    "$LABD/federation" up
    sed -e 's/^interval = "5s"/interval = "1s"/' -e 's/^timeout = "1s"/timeout = "700ms"/' \
        -e "s/interval = \"30s\"/interval = \"${LAB_PATH_INTERVAL:-30s}\"/" \
        -e "s|/run/fedprobe-lab/fpl/|$STATE/|g" "$LABD/federation.toml" >"$WORK/fed.toml"
    for o in "$@"; do
        ip netns exec "$(ns "$o-app")" "$FEDPROBE" run --config "$WORK/fed.toml" --site "${ID[$o]}" >"$WORK/$o.log" 2>&1 &
        PIDS+=($!)
    done
}
scrape() { in_ns "$1-app" curl -sf --max-time 3 http://127.0.0.1:9641/metrics; }
