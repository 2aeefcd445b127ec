# Shared helpers for the integration scripts: a private network namespace per test, removed
# on exit whatever happens, and a fedprobe daemon run inside it.
set -euo pipefail

: "${FEDPROBE:?FEDPROBE must name the fedprobe binary}"
: "${SOURCE_ROOT:?SOURCE_ROOT must name the source tree}"

# True when the binary under test is built with AddressSanitizer, whichever compiler linked it
# (g++ loads libasan.so, clang links the runtime in): its memory and times are not the release's.
sanitized() { grep -aq __asan_init "$FEDPROBE"; }

NS="fptest-$(basename "$0" .sh)-$$"
WORK="$(mktemp -d)"
DAEMON_PID=""
MORE_NS=()     # add_ns
BACKGROUND=()  # accept_and_close

cleanup() {
    local p n
    for p in "${BACKGROUND[@]}"; do kill "$p" 2>/dev/null || true; done
    # A daemon that ignores SIGTERM must not hold the cleanup past meson's grace period: that
    # would leave the namespace behind. It is told what it hung on first.
    if [ -n "$DAEMON_PID" ]; then
        kill "$DAEMON_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do alive "$DAEMON_PID" || break; sleep 0.1; done
        if alive "$DAEMON_PID"; then
            echo "daemon still running 5 s after SIGTERM:" >&2
            threads_of "$DAEMON_PID" >&2
            kill -KILL "$DAEMON_PID" 2>/dev/null || true
        fi
        wait "$DAEMON_PID" 2>/dev/null || true
    fi
    # Whatever still runs inside the namespaces goes first: a server started as `in_ns CMD &`
    # has a subshell as $!, so killing that leaves the server behind, and the namespace with it.
    for n in "${MORE_NS[@]}" "$NS"; do
        ip netns pids "$n" 2>/dev/null | xargs -r kill 2>/dev/null || true
    done
    for n in "${MORE_NS[@]}"; do ip netns del "$n" 2>/dev/null || true; done
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# A bcrypt hash ($2b$, cost 10) of a password, as basic_auth_users holds them.
bcrypt_hash() { /usr/bin/python3 -W ignore -c "import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1024)))" "$1"; }

# The reason comes last, after the daemon's log: CI shows a failing test's output from its end.
fail() {
    if [ -f "$WORK/daemon.log" ]; then
        { echo "--- daemon log"; cat "$WORK/daemon.log"; echo "--- end of daemon log"; } >&2
    fi
    echo "FAIL: $*" >&2
    exit 1
}
pass() { echo "ok: $*"; }

# A namespace with only loopback: nothing the test does can leave it.
make_ns() {
    ip netns add "$NS"
    ip netns exec "$NS" ip link set lo up
}
in_ns() { ip netns exec "$NS" "$@"; }
# More namespaces for a topology (routers, servers), with only loopback up; removed on exit.
add_ns() {  # name...
    local n
    for n in "$@"; do
        ip netns add "$n"
        MORE_NS+=("$n")
        ip -n "$n" link set lo up
    done
}

# A TCP listener in namespace NS on PORT that accepts every connection and closes it, so a
# connect sees a whole handshake (and nothing else on that port); ready when this returns,
# killed on exit.
accept_and_close() {  # ns port
    ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(4096)
while True:
    c, _ = s.accept(); c.close()' "$2" >/dev/null 2>&1 &
    BACKGROUND+=($!)
    local i
    for i in $(seq 1 50); do
        ip netns exec "$1" bash -c "exec 3<>/dev/tcp/127.0.0.1/$2" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "no listener on port $2 in $1 after 5 s"
}

start_daemon() {  # config [extra args]
    local config="$1"; shift
    # Not through in_ns: a backgrounded function is a subshell, and signals must reach fedprobe.
    ip netns exec "$NS" "$FEDPROBE" run --config "$config" "$@" >"$WORK/daemon.log" 2>&1 &
    DAEMON_PID=$!
}

# Each thread of a process, its name, state and the kernel function it waits in: what a hung
# daemon was doing, for the log.
threads_of() {  # pid
    local t
    for t in /proc/"$1"/task/*; do
        printf '%s %s %s wchan=%s\n' "${t##*/}" "$(cat "$t/comm" 2>/dev/null)" \
            "$(awk '{print $3}' "$t/stat" 2>/dev/null)" "$(cat "$t/wchan" 2>/dev/null)"
    done
}

# True while the process runs; a zombie (exited, not yet reaped) counts as gone.
# Read once (a process reaped between two reads must not count as running) and without a fork,
# so a loop timing a shutdown measures the daemon rather than the shell on a loaded machine.
alive() {
    local stat
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
    [[ ! $stat =~ ^[0-9]+\ \(.*\)\ [ZX] ]]
}

# SCRAPE_TIMEOUT: seconds a scrape may take (a test of many targets under ASan needs more).
scrape() { in_ns curl -sf --max-time "${SCRAPE_TIMEOUT:-2}" ${SCRAPE_USER:+-u "$SCRAPE_USER"} "http://${LISTEN:-127.0.0.1:9641}/metrics"; }

# Waits until the metrics contain a line matching the regex, up to N seconds.
wait_for_metric() {  # regex seconds
    local deadline=$((SECONDS + $2))
    while [ $SECONDS -lt $deadline ]; do
        local m
        m=$(scrape 2>/dev/null) || true  # not piped: grep -q would SIGPIPE curl on a large body
        if grep -Eq "$1" <<<"$m"; then return 0; fi
        alive "$DAEMON_PID" || fail "daemon exited while waiting for /$1/"
        sleep 0.2
    done
    fail "no metric matching /$1/ within $2 s"
}
