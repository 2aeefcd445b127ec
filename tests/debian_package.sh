#!/usr/bin/env bash
# The Debian package (tools/build-deb: dpkg-buildpackage on a copy of this tree), lintian-clean
# (no error or warning that debian/fedprobe.lintian-overrides does not explain), installed, its
# binary run (--version, validate on the shipped file, and the daemon itself on that file in a
# namespace with only loopback), then purged without a file left behind.
# It installs and purges the package named fedprobe, so it refuses to run where one is already
# installed rather than remove it.
source "$(dirname "$0")/lib.sh"
if dpkg-query -W -f='${Status}' fedprobe 2>/dev/null | grep -q 'installed'; then
    fail "a fedprobe package is already installed here; this test would purge it"
fi
purge() { dpkg --purge fedprobe >/dev/null 2>&1 || true; }
trap 'purge; cleanup' EXIT

version=$("$FEDPROBE" --version | awk '{print $NF}')
# tools/test builds the package once (tools/build-deb) and runs every whole-program test
# against its binary; on its own this test builds one.
pkg=${FEDPROBE_PACKAGE_DIR:-}
if [ -z "$pkg" ]; then
    pkg="$WORK/package"
    start=$SECONDS
    "$SOURCE_ROOT/tools/build-deb" "$pkg" >/dev/null || fail "tools/build-deb failed"
    pass "tools/build-deb made the package in $((SECONDS - start)) s"
fi
deb="$pkg/fedprobe_${version}_amd64.deb"
[ -f "$deb" ] || fail "no $deb (made: $(ls "$pkg"))"
pass "the package: $(basename "$deb"), built with Debian's flags and -Werror"

lint=$(lintian --fail-on error,warning --pedantic "$pkg/fedprobe_${version}_amd64.changes" 2>&1 \
    | { grep -v 'running with root privileges' || true; }) || { echo "$lint"; fail "lintian found errors or warnings"; }
[ -z "$(grep -E '^[EW]:' <<<"$lint")" ] || { echo "$lint"; fail "lintian"; }
pass "lintian: no error or warning${lint:+ (left: $(grep -c . <<<"$lint") info/pedantic)}"

contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/fedprobe ./lib/systemd/system/fedprobe.service ./etc/fedprobe/federation.toml \
         ./etc/default/fedprobe ./usr/share/man/man8/fedprobe.8.gz ./usr/share/fedprobe/alerts/fedprobe.rules.yml \
         ./usr/share/fedprobe/alerts/fedprobe.recording.yml ./usr/share/fedprobe/consoles/fedprobe.html \
         ./usr/share/doc/fedprobe/copyright ./usr/share/doc/fedprobe/examples/federation.toml; do
    grep -q " $f\$" <<<"$contents" || fail "the package lacks $f"
done
conffiles=$(dpkg-deb -I "$deb" conffiles)
grep -qx /etc/fedprobe/federation.toml <<<"$conffiles" || fail "federation.toml is not a conffile"
grep -qx /etc/default/fedprobe <<<"$conffiles" || fail "/etc/default/fedprobe is not a conffile"
pass "the package holds the binary, unit, man page, alert rules and two conffiles"

# Built with Debian's hardening (hardening=+all): a position-independent executable, with
# read-only relocations bound at start, the stack protector and fortified libc calls.
dpkg-deb -x "$deb" "$WORK/unpacked"
bin="$WORK/unpacked/usr/bin/fedprobe"
grep -q 'Type: *DYN' <<<"$(readelf -h "$bin")" || fail "the binary is not position-independent"
grep -q GNU_RELRO <<<"$(readelf -l "$bin")" || fail "no RELRO segment"
grep -q 'FLAGS.*BIND_NOW' <<<"$(readelf -d "$bin")" || fail "relocations not bound at start (no BIND_NOW): partial RELRO only"
symbols=$(nm -D "$bin")  # not piped into grep -q: with pipefail, nm's SIGPIPE would fail the check
grep -q __stack_chk_fail <<<"$symbols" || fail "no stack protector"
grep -q '_chk@' <<<"$symbols" || fail "no fortified libc calls (_FORTIFY_SOURCE)"
pass "the binary is PIE with full RELRO, the stack protector and _FORTIFY_SOURCE"

DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >"$WORK/install.log" 2>&1 \
    || { cat "$WORK/install.log"; fail "apt-get install of the package failed"; }
[ "$(/usr/bin/fedprobe --version)" = "$("$FEDPROBE" --version)" ] || fail "installed --version: $(/usr/bin/fedprobe --version)"
/usr/bin/fedprobe validate --config /etc/fedprobe/federation.toml || fail "the shipped federation file does not validate"
unit=/lib/systemd/system/fedprobe.service
grep -qx 'ExecStart=/usr/bin/fedprobe run --config /etc/fedprobe/federation.toml' "$unit" || fail "ExecStart: $(grep ExecStart "$unit")"
grep -qx 'EnvironmentFile=-/etc/default/fedprobe' "$unit" || fail "the unit does not read /etc/default/fedprobe"
out=$(systemd-analyze verify --man=no "$unit" 2>&1) || true
[ -z "$out" ] || { echo "$out"; fail "systemd-analyze verify on the installed unit"; }
man -w fedprobe >/dev/null || fail "man fedprobe finds no page"
pass "installed: $(/usr/bin/fedprobe --version), the shipped file validates, unit and man page in place"

# The shipped file probes only loopback: every address in it is in 127.0.0.0/8 ...
python3 - /etc/fedprobe/federation.toml <<'PY' || fail "the shipped federation file names an address outside loopback"
import ipaddress, re, sys
text = open(sys.argv[1]).read()
for a in re.findall(r'address\s*=\s*"([^"]+)"', text):
    assert ipaddress.ip_address(a) in ipaddress.ip_network("127.0.0.0/8"), a
for p in re.findall(r'"(\d+\.\d+\.\d+\.\d+/\d+)"', text):
    assert ipaddress.ip_network(p).subnet_of(ipaddress.ip_network("127.0.0.0/8")), p
PY
# ... and the installed daemon runs it, with the unit's environment file, in a namespace that
# has nothing but loopback.
make_ns
set -a; source /etc/default/fedprobe; set +a
FEDPROBE=/usr/bin/fedprobe start_daemon /etc/fedprobe/federation.toml
wait_for_metric '^fedprobe_probe_success\{.*probe="icmp".*\} 1' 15
pass "the installed daemon probes the shipped file's loopback targets"
kill "$DAEMON_PID"; wait "$DAEMON_PID" || true; DAEMON_PID=""

owned=$(dpkg -L fedprobe | while read -r f; do [ -f "$f" ] && echo "$f"; done)
dpkg --purge fedprobe >"$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log"; fail "dpkg --purge failed"; }
left=$(for f in $owned; do [ -e "$f" ] && echo "$f"; done; ls -d /etc/fedprobe /usr/share/fedprobe /usr/share/doc/fedprobe \
    /etc/systemd/system/multi-user.target.wants/fedprobe.service 2>/dev/null; \
    find /var/lib/systemd/deb-systemd-helper-enabled -name 'fedprobe*' 2>/dev/null) || true
[ -z "$left" ] || fail "purge left: $left"
dpkg-query -W -f='${Status}' fedprobe 2>/dev/null | grep -q 'installed' && fail "still installed after purge"
pass "purged: none of its $(wc -l <<<"$owned") files left, no unit enablement left"
