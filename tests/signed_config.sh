#!/usr/bin/env bash
# Signed federation files (--trusted-keys): keys and signatures made by OpenSSL's own command
# line, as doc/security.md tells a federation to. validate and run refuse an unsigned file, a
# signature by a key that is not trusted, a truncated signature and a file changed after it was
# signed, each with a message naming why; a running daemon refuses the same on reload and
# keeps probing with its old file. --signatures 2 needs two distinct keys.
source "$(dirname "$0")/lib.sh"
make_ns
keys="$WORK/trusted" others="$WORK/others"
mkdir -p "$keys" "$others"
for k in kent-nhs kent-psn; do
    openssl genpkey -algorithm ed25519 -out "$WORK/$k.key" 2>/dev/null
    openssl pkey -in "$WORK/$k.key" -pubout -out "$keys/$k.pem"
done
openssl genpkey -algorithm ed25519 -out "$WORK/stranger.key" 2>/dev/null
sign() {  # key file [signature]
    openssl pkeyutl -sign -rawin -inkey "$WORK/$1.key" -in "$2" -out "${3:-$2.sig}"
}
write_config() {  # target address
    cat >"$WORK/fed.toml" <<TOML
[fedprobe]
site = "kent-nhs"
interval = "500ms"
timeout = "200ms"
[[networks]]
id = "kent-nhs"
prefixes = ["127.0.0.0/8"]
[[targets]]
id = "loopback"
network = "kent-nhs"
address = "$1"
probes = ["icmp"]
TOML
}
validate() { rc=0; out=$("$FEDPROBE" validate --config "$WORK/fed.toml" --trusted-keys "$keys" "$@" 2>&1) || rc=$?; }

write_config 127.0.0.2
validate
[ $rc = 1 ] && grep -q "fed.toml.sig: no signature" <<<"$out" && grep -q "openssl pkeyutl -sign -rawin" <<<"$out" \
    || fail "an unsigned file is refused, saying how to sign it ($rc): $out"
sign stranger "$WORK/fed.toml"
validate
[ $rc = 1 ] && grep -q "signed by 0 of the keys" <<<"$out" && grep -q "not the signature of this file by any key" <<<"$out" \
    || fail "a signature by an untrusted key is refused ($rc): $out"
sign kent-nhs "$WORK/fed.toml"
head -c 40 "$WORK/fed.toml.sig" >"$WORK/short.sig" && mv "$WORK/short.sig" "$WORK/fed.toml.sig"
validate
[ $rc = 1 ] && grep -q "fed.toml.sig is 40 bytes: an Ed25519 signature is 64" <<<"$out" || fail "a truncated signature is refused ($rc): $out"
sign kent-nhs "$WORK/fed.toml"
validate
[ $rc = 0 ] || fail "a file signed by a trusted key validates ($rc): $out"
FEDPROBE_TRUSTED_KEYS="$keys" "$FEDPROBE" validate --config "$WORK/fed.toml" >/dev/null 2>&1 || fail "FEDPROBE_TRUSTED_KEYS is --trusted-keys' default"
echo "# one more line" >>"$WORK/fed.toml"
validate
[ $rc = 1 ] && grep -q "the file changed since" <<<"$out" || fail "a file changed after it was signed is refused ($rc): $out"
FEDPROBE_TRUSTED_KEYS="$keys" "$FEDPROBE" validate --config "$WORK/fed.toml" >/dev/null 2>&1 && fail "FEDPROBE_TRUSTED_KEYS is honoured"
echo "not a key" >"$keys/broken.pem"
sign kent-nhs "$WORK/fed.toml"
validate
[ $rc = 1 ] && grep -q "broken.pem: not a PEM public key" <<<"$out" || fail "a trusted-keys file that is not a key is an error ($rc): $out"
rm "$keys/broken.pem"
pass "validate: unsigned, untrusted, truncated and stale signatures refused, each saying why; a trusted one accepted"

# --signatures 2: two distinct keys, each in FILE.sig.d.
rm -f "$WORK/fed.toml.sig"
mkdir -p "$WORK/fed.toml.sig.d"
sign kent-nhs "$WORK/fed.toml" "$WORK/fed.toml.sig.d/kent-nhs.sig"
validate --signatures 2
[ $rc = 1 ] && grep -q "signed by 1 of the keys in .*, 2 needed" <<<"$out" || fail "one signature of two is refused ($rc): $out"
cp "$WORK/fed.toml.sig.d/kent-nhs.sig" "$WORK/fed.toml.sig.d/again.sig"
validate --signatures 2
[ $rc = 1 ] || fail "the same key twice is one signer ($rc): $out"
sign kent-psn "$WORK/fed.toml" "$WORK/fed.toml.sig.d/kent-psn.sig"
validate --signatures 2
[ $rc = 0 ] || fail "two distinct trusted keys satisfy --signatures 2 ($rc): $out"
rc=0; "$FEDPROBE" validate --config "$WORK/fed.toml" --signatures 2 >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] || fail "--signatures without --trusted-keys is a usage error ($rc)"
rc=0; out=$("$FEDPROBE" validate --config "$WORK/fed.toml" --trusted-keys "$keys" --signatures 17 2>&1) || rc=$?
[ $rc = 2 ] && grep -q -- "--signatures must be a number from 1 to 16, not '17'" <<<"$out" || fail "--signatures 17: exit 2, saying why ($rc): $out"
pass "--signatures 2: one key (even twice) refused, two distinct keys accepted"
rm -rf "$WORK/fed.toml.sig.d"

# run: an unsigned file does not start; a signed one runs; an unsigned reload is refused and
# the old file keeps probing; a signed one is taken.
write_config 127.0.0.2
rc=0; timeout 10 ip netns exec "$NS" "$FEDPROBE" run --config "$WORK/fed.toml" --trusted-keys "$keys" >"$WORK/refused.log" 2>&1 || rc=$?
[ $rc = 1 ] && grep -q "no signature" "$WORK/refused.log" && grep -q "not starting" "$WORK/refused.log" \
    || fail "run refuses an unsigned file at start, exit 1 ($rc): $(cat "$WORK/refused.log")"
sign kent-nhs "$WORK/fed.toml"
start_daemon "$WORK/fed.toml" --trusted-keys "$keys"
wait_for_metric 'fedprobe_probe_success\{.*target="loopback"\} 1' 10
pass "run: an unsigned file does not start (exit 1, saying why); a signed one runs"

write_config 127.0.0.3  # not re-signed: the old signature is of the old bytes
kill -HUP "$DAEMON_PID"
wait_for_metric '^fedprobe_config_last_reload_successful 0' 10
grep -q "not the signature of this file" "$WORK/daemon.log" || fail "the refusal is logged with its reason: $(tail -5 "$WORK/daemon.log")"
m=$(scrape)
grep -q 'fedprobe_icmp_packets_sent_total{.*target="loopback"' <<<"$m" || fail "the old config keeps probing"
sign kent-nhs "$WORK/fed.toml"
kill -HUP "$DAEMON_PID"
wait_for_metric '^fedprobe_config_last_reload_successful 1' 10
[ "$(scrape | sed -nE 's/^fedprobe_config_info\{sha256="([0-9a-f]+)"\} 1$/\1/p')" = "$(sha256sum "$WORK/fed.toml" | cut -d' ' -f1)" ] \
    || fail "the signed file is the one running"
alive "$DAEMON_PID" || fail "the daemon survives"
pass "reload: a file changed without a new signature is refused and the old keeps probing; re-signed, it is taken"
