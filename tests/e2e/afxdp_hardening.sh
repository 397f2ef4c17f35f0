#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# afxdp_hardening.sh: the live sensor's steady state is locked down and still works. Started
# with --user nobody on an AF_XDP tap in a namespace, every one of its threads must show, in
# /proc (the kernel's word, not the sensor's): uid and gid nobody, no effective, permitted,
# inheritable, ambient or bounding capability, no_new_privs, and a seccomp filter (Seccomp: 2).
# Then our own captures (AUTH PLAIN and LOGIN, pipelining, a message with headers) are
# replayed into the tap: the filtered, unprivileged sensor must log every transaction of them,
# write stats.json when stopped, exit 0 and leave the interface clean. That the filter refuses
# and kills what it should is tests/unit/test_sandbox.c.
#
# usage: afxdp_hardening.sh RELAYWATCH		(exit 77 when not root or a tool is missing)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
RELAYWATCH=${1:-${RELAYWATCH:-}}
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/e2e/afxdp_common.sh
. "$here/afxdp_common.sh"
AFX_BIN=$RELAYWATCH

afx_init tcpreplay
id nobody >/dev/null 2>&1 || rw_skip "no user nobody"
caps="$here/../captures"
replays=(auth-plain-success auth-login-success pipelining headers)
for c in "${replays[@]}"; do
	[[ -f $caps/$c.pcap ]] || rw_skip "missing $caps/$c.pcap"
done
afx_tap_add 1

dir="$RW_TMP/hard"
mkdir -p "$dir"
chown nobody "$dir"
chmod 755 "$RW_TMP"
afx_sensor_start "$dir" --user nobody
grep -q "seccomp: filter installed" "$AFX_LOG" || rw_die "no seccomp filter logged"

uid=$(id -u nobody)
gid=$(id -g nobody)
n=0
for st in /proc/"$AFX_PID"/task/*/status; do
	t=$(basename "$(dirname "$st")")
	f() { awk -v k="$1:" '$1 == k {print $2, $3, $4, $5}' "$st"; }
	[[ $(f Uid) == "$uid $uid $uid $uid" ]] || rw_die "thread $t: Uid $(f Uid)"
	[[ $(f Gid) == "$gid $gid $gid $gid" ]] || rw_die "thread $t: Gid $(f Gid)"
	for k in CapInh CapPrm CapEff CapBnd CapAmb; do
		[[ $(f $k) == "0000000000000000   " ]] || rw_die "thread $t: $k $(f $k)"
	done
	[[ $(f NoNewPrivs) == "1   " ]] || rw_die "thread $t: NoNewPrivs $(f NoNewPrivs)"
	[[ $(f Seccomp) == "2   " ]] || rw_die "thread $t: Seccomp $(f Seccomp) (2 = filter)"
	n=$((n + 1))
done
[[ $n -ge 3 ]] || rw_die "only $n threads (main, detector, a worker at least)"
rw_log "$n threads: uid/gid nobody, no capabilities, no_new_privs, seccomp filter"

for c in "${replays[@]}"; do
	rw_rexec tcpreplay -q --pps 2000 -i "$AFX_TAP" "$caps/$c.pcap" >"$RW_TMP/tcpreplay.log" \
		2>&1 || rw_die "tcpreplay $c: $(cat "$RW_TMP/tcpreplay.log")"
done
kill -0 "$AFX_PID" 2>/dev/null || rw_die "sensor died under its filter: $(tail -20 "$AFX_LOG")"
afx_sensor_stop TERM
afx_assert_detached

# The same captures read from files, unfiltered and as root: the reference.
for c in "${replays[@]}"; do
	"$AFX_BIN" -q --report none -r "$caps/$c.pcap" -l "$RW_TMP/ref-$c" ||
		rw_die "relaywatch -r $c failed"
	cat "$RW_TMP/ref-$c/smtp.json"
done >"$RW_TMP/ref.json"
afx_tx_json "$RW_TMP/ref.json" >"$RW_TMP/ref.tx"
afx_tx_json "$dir/smtp.json" >"$RW_TMP/live.tx"
n=$(wc -l <"$RW_TMP/ref.tx")
[[ $n -ge 4 ]] || rw_die "only $n transactions in the reference"
diff -u "$RW_TMP/ref.tx" "$RW_TMP/live.tx" >&2 || rw_die "the filtered sensor's smtp.json differs"
[[ -s $dir/stats.json ]] || rw_die "the filtered sensor wrote no stats.json"
grep -q '"auth_user"' "$RW_TMP/live.tx" || rw_die "no AUTH user logged"
rw_log "PASS: $n transactions under seccomp as nobody, equal to -r; interface clean"
