#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Passwords in no core dump: a live sensor that has just parsed AUTH PLAIN and LOGIN
# logins (whole lines, lines cut across segments, a segment out of order, a line whose
# end never comes) is dumped with gcore, and scan_secrets.py finds none of the
# passwords in the core, in clear, hex or base64 at any alignment. The sensor reads a
# FIFO whose writer stays open, so it is alive, mid-run, with the traffic parsed.
# The scan is shown to work on the same core: the EHLO name of the AUTH sessions and
# the AUTH user name (on the wire only inside base64: in clear only once parsed) are
# found in it, and the passwords are found in the capture itself.
#
# usage: coredump.sh RELAYWATCH
set -uo pipefail

rw=${1:?usage: coredump.sh RELAYWATCH}
here=$(cd "$(dirname "$0")" && pwd)
scan="$here/scan_secrets.py"
PW='Tr0ub4dor&3-'
EHLO='coredump-probe.example.net'
USER='dumpuser@example.com'
FILLER=${RW_COREDUMP_FILLER:-40} # sessions without AUTH after the logins

for tool in python3 gcore; do
	command -v "$tool" >/dev/null || { echo "SKIP: needs $tool"; exit 77; }
done
[ "$(id -u)" -eq 0 ] || { echo "SKIP: gcore needs to attach to the sensor (root)"; exit 77; }
T=$(mktemp -d /tmp/relaywatch-coredump.XXXXXX)
pid=""
cleanup() {
	exec 3>&- 2>/dev/null
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	[ -n "${RW_COREDUMP_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
failed=0
fail() {
	echo "FAIL $*"
	failed=$((failed + 1))
}

# Small tables: a fast start and a small core.
printf 'limits:\n  %s\n  %s\n  %s\n' 'flows_per_worker: 4096' 'reasm_bytes_per_worker: 4MiB' \
	'smtp_sessions_per_worker: 1024' >"$T/cfg.yaml"
python3 "$here/gen_auth_pcap.py" "$T/auth.pcap" "$PW" "$EHLO" "$USER" "$FILLER" ||
	{ echo "FAIL cannot generate the capture"; exit 1; }
python3 "$scan" "$PW" "$T/auth.pcap" >"$T/selftest" &&
	fail "scan_secrets.py finds no password in the capture that carries them"
grep -q 'base64' "$T/selftest" || fail "scan_secrets.py missed the base64 passwords"

mkfifo "$T/in.pcap"
mkdir -p "$T/out"
"$rw" -q -w 1 -c "$T/cfg.yaml" -r "$T/in.pcap" -l "$T/out" --report none \
	>"$T/stdout" 2>"$T/stderr" &
pid=$!
# Read-write: the open does not wait for the sensor, and the FIFO stays open for writing.
exec 3<>"$T/in.pcap"
timeout 30 cat "$T/auth.pcap" >&3 || fail "the sensor does not read its input: $(tail -3 "$T/stderr")"
# Parsed, not only read: the EHLO name of a late filler session is in the session
# table, which core dumps keep (raw input is in memory they leave out).
last="filler-$((FILLER - 4)).example.net"
for _ in $(seq 100); do
	python3 "$scan" "$last" --pid "$pid" >/dev/null || break
	sleep 0.1
done
python3 "$scan" "$last" --pid "$pid" >/dev/null && fail "the sensor has not parsed the capture in 10 s"

gcore -o "$T/core" "$pid" >"$T/gcore.log" 2>&1 || fail "gcore: $(tail -3 "$T/gcore.log")"
core="$T/core.$pid"
if [ -s "$core" ]; then
	echo "core: $(($(stat -c %s "$core") >> 20)) MiB; left out of it (MADV_DONTDUMP):" \
		"$(python3 -c 'import re, sys; r = None; n = 0
for l in open(sys.argv[1]):
    m = re.match(r"([0-9a-f]+)-([0-9a-f]+) ", l)
    r = m.groups() if m else r
    n += int(r[1], 16) - int(r[0], 16) if l.startswith("VmFlags:") and " dd" in l else 0
print(n >> 20)' "/proc/$pid/smaps") MiB"
	python3 "$scan" "$PW" "$core" || failed=$((failed + 1))
	python3 "$scan" "$EHLO" "$core" >"$T/ehlo" &&
		fail "the EHLO name of the AUTH sessions is not in the core: the scan proves nothing"
	python3 "$scan" "$USER" "$core" >"$T/user"
	grep -q ': clear at' "$T/user" ||
		fail "the AUTH user name is not in the core in clear: were the logins parsed?"
else
	fail "no core written"
fi

# End of input: the sensor finishes the run and logs every login.
exec 3>&-
wait "$pid"
rc=$?
pid=""
[ "$rc" -eq 0 ] || fail "sensor exit $rc: $(tail -3 "$T/stderr")"
n=$(grep -c "\"auth_user\":\"$USER\"" "$T/out/smtp.json" 2>/dev/null)
[ "${n:-0}" -ge 5 ] || fail "smtp.json has ${n:-0} transactions of $USER, want 5 or more"

echo "coredump: $failed failed"
[ "$failed" -eq 0 ]
