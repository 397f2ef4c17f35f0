#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Passwords in no core dump: a live sensor that has just parsed AUTH PLAIN and LOGIN
# logins (whole lines, lines cut across segments, a segment out of order, a line whose
# end never comes) is dumped with gcore, and scan_secrets.py finds none of the
# passwords in the core, in clear, hex or base64 at any alignment. The sensor reads a
# FIFO whose writer stays open, so it is alive, mid-run, with the traffic parsed;
# once with the capture as it is, once gzip-compressed.
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

for tool in python3 gcore gzip; do
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
printf 'limits:\n' >"$T/cfg.yaml"
printf '  %s\n' 'flows_per_worker: 4096' 'reasm_bytes_per_worker: 4MiB' 'hosts: 1024' \
	'smtp_sessions_per_worker: 1024' 'accounts: 1024' 'event_ring_bytes: 1MiB' >>"$T/cfg.yaml"
python3 "$here/gen_auth_pcap.py" "$T/auth.pcap" "$PW" "$EHLO" "$USER" "$FILLER" ||
	{ echo "FAIL cannot generate the capture"; exit 1; }
python3 "$scan" "$PW" "$T/auth.pcap" >"$T/selftest" &&
	fail "scan_secrets.py finds no password in the capture that carries them"
grep -q 'base64' "$T/selftest" || fail "scan_secrets.py missed the base64 passwords"

# $1: plain or gzip, how the capture goes into the FIFO (gzip: through inflate's window).
run_case() {
	local d="$T/$1" core rc n last="filler-$((FILLER - 4)).example.net"

	mkdir -p "$d/out"
	mkfifo "$d/in"
	"$rw" -q -w 1 -c "$T/cfg.yaml" -r "$d/in" -l "$d/out" --report none \
		>"$d/stdout" 2>"$d/stderr" &
	pid=$!
	# Read-write: the open does not wait for the sensor, and the FIFO stays open.
	exec 3<>"$d/in"
	if [ "$1" = gzip ]; then
		gzip -c "$T/auth.pcap" >"$d/auth.pcap.gz"
		timeout 30 cat "$d/auth.pcap.gz" >&3
	else
		timeout 30 cat "$T/auth.pcap" >&3
	fi || fail "$1: the sensor does not read its input: $(tail -3 "$d/stderr")"
	# Parsed, not only read: the EHLO name of a late filler session is in the
	# session table, which core dumps keep (raw input is in memory they leave out).
	for _ in $(seq 150); do
		python3 "$scan" "$last" --pid "$pid" >/dev/null || break
		sleep 0.1
	done
	python3 "$scan" "$last" --pid "$pid" >/dev/null &&
		fail "$1: the sensor has not parsed the capture in 15 s"

	gcore -o "$d/core" "$pid" >"$d/gcore.log" 2>&1 || fail "$1: gcore: $(tail -3 "$d/gcore.log")"
	core="$d/core.$pid"
	if [ -s "$core" ]; then
		echo "$1: core of $(($(stat -c %s "$core") >> 20)) MiB; left out (MADV_DONTDUMP):" \
			"$(python3 -c 'import re, sys; r = None; n = 0
for l in open(sys.argv[1]):
    m = re.match(r"([0-9a-f]+)-([0-9a-f]+) ", l)
    r = m.groups() if m else r
    n += int(r[1], 16) - int(r[0], 16) if l.startswith("VmFlags:") and " dd" in l else 0
print(n >> 20)' "/proc/$pid/smaps") MiB"
		python3 "$scan" "$PW" "$core" || fail "$1: passwords in the core"
		python3 "$scan" "$EHLO" "$core" >"$d/ehlo" &&
			fail "$1: the AUTH sessions' EHLO name is not in the core: the scan proves nothing"
		python3 "$scan" "$USER" "$core" >"$d/user"
		grep -q ': clear at' "$d/user" ||
			fail "$1: the AUTH user is not in the core in clear: were the logins parsed?"
		rm -f "$core"
	else
		fail "$1: no core written"
	fi

	# End of input: the sensor finishes the run and logs every login.
	exec 3>&-
	wait "$pid"
	rc=$?
	pid=""
	[ "$rc" -eq 0 ] || fail "$1: sensor exit $rc: $(tail -3 "$d/stderr")"
	n=$(grep -c "\"auth_user\":\"$USER\"" "$d/out/smtp.json" 2>/dev/null)
	[ "${n:-0}" -ge 5 ] || fail "$1: smtp.json has ${n:-0} transactions of $USER, want 5 or more"
}

run_case plain
run_case gzip

echo "coredump: $failed failed"
[ "$failed" -eq 0 ]
