#!/usr/bin/env bash
# Application checks against peers that misbehave, in a namespace of their own: a peer that sends
# 10 MB, one that never ends its frame, one that answers byte by byte, one that never reads, a
# PDU that announces 4 GB, and a firewall that drops the data after the handshake. Each costs the
# probe a bounded buffer and its timeout: the verdicts are the documented ones, the daemon stays
# small and keeps probing. A server that acknowledges the data and says nothing is `mismatch`,
# never `app_blocked`; only data the server's TCP never saw is.
source "$(dirname "$0")/lib.sh"
make_ns
in_ns ip link set lo up
cat >"$WORK/peers.py" <<'PY'
import selectors, socket, sys, time, threading

def serve(port, handler):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port)); s.listen(64)
    def loop():
        while True:
            c, _ = s.accept()
            threading.Thread(target=handler, args=(c,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()

def flood(c):          # an MLLP frame that goes on for 10 MB
    try:
        c.recv(65536); c.sendall(b"\x0b" + b"x" * (10 << 20))
    except OSError: pass
def endless(c):        # a frame begun and never ended
    try:
        c.recv(65536); c.sendall(b"\x0bMSH|^~\\&|partial"); time.sleep(30)
    except OSError: pass
def bytewise(c):       # a correct ACK, one byte every 5 ms
    try:
        msg = c.recv(65536)
        ctl = msg.split(b"|")[9]
        ack = b"\x0bMSH|^~\\&|E|F|||||ACK|A|T|2.5.1\rMSA|AA|" + ctl + b"\r\x1c\r"
        for b in ack:
            c.send(bytes([b])); time.sleep(0.005)
        time.sleep(5)
    except OSError: pass
def deaf(c):           # accepts, never reads, never writes: its TCP acknowledges the data
    time.sleep(30)
def huge_pdu(c):       # an A-ASSOCIATE-AC that announces 4 GB
    try:
        c.recv(65536); c.sendall(b"\x02\x00\xff\xff\xff\xff" + b"\0" * 1000); time.sleep(5)
    except OSError: pass
def echo(c):           # behind the firewall that drops data: never reached by any
    try:
        while c.recv(65536): pass
    except OSError: pass

for port, h in [(31001, flood), (31002, endless), (31003, bytewise), (31004, deaf),
                (31005, huge_pdu), (31006, echo)]:
    serve(port, h)
print("ready", flush=True)
time.sleep(3600)
PY
in_ns python3 "$WORK/peers.py" >"$WORK/peers.log" 2>&1 &
BACKGROUND+=($!)
for _ in $(seq 1 50); do grep -q ready "$WORK/peers.log" 2>/dev/null && break; sleep 0.1; done
# An application-aware firewall: the handshake passes, segments with data to 31006 are dropped.
in_ns nft -f - <<'NFT'
table inet l7 {
    chain input {
        type filter hook input priority 0;
        tcp dport 31006 tcp flags & psh == psh drop
    }
}
NFT
{
    printf '[fedprobe]\nsite = "kent-nhs"\ninterval = "3s"\ntimeout = "2s"\n'
    printf '[[networks]]\nid = "kent-nhs"\nprefixes = ["127.0.0.0/8"]\n[services]\n'
    for p in 31001 31002 31003 31004 31005 31006; do printf 's%s = { proto = "tcp", port = %s }\n' $p $p; done
    t() { printf '[[targets]]\nid = "%s"\nnetwork = "kent-nhs"\naddress = "127.0.0.1"\nprobes = ["%s"]\n' "$1" "$2"; }
    t flood mllp:s31001; t endless mllp:s31002; t bytewise mllp:s31003; t deaf mllp:s31004
    t huge dicom:s31005; t dropped mllp:s31006
} >"$WORK/fed.toml"
start_daemon "$WORK/fed.toml"
expect() {  # target outcome detail-regex
    for _ in $(seq 1 60); do
        grep -Eq "^.* $1 [a-z]+:s[0-9]+: new -> $2.*$3" "$WORK/daemon.log" && return 0
        sleep 0.1
    done
    fail "$1: not $2 /$3/: $(grep " $1 " "$WORK/daemon.log")"
}
expect bytewise ok ""
expect flood mismatch "no end of the MLLP frame in 65536 bytes"
expect huge mismatch "not DICOM: a PDU of 4294967295 bytes"
expect endless mismatch "the answer stopped after 17 bytes"
expect deaf mismatch "no answer: the server acknowledged the data and said nothing"
expect dropped app_blocked "the server never acknowledged the data sent after the handshake"
# Still probing, a few rounds on, and small: 10 MB offered cost at most the 64 KiB buffer.
wait_for_metric 'fedprobe_probe_outcome_total\{[^}]*outcome="ok",[^}]*target="bytewise"\} [2-9]' 15
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$DAEMON_PID/status")
# ASan's allocator keeps freed memory and shadows all of it: its bound is looser, not absent.
limit=80000
sanitized && limit=400000
[ "$hwm" -lt "$limit" ] || fail "peak RSS ${hwm} kB after the 10 MB peer (limit ${limit} kB)"
pass "misbehaving peers: 10 MB, an endless frame, 4 GB announced, byte by byte, a deaf server and a data-dropping firewall each judged as documented; peak RSS ${hwm} kB"
