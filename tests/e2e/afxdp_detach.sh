#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# afxdp_detach.sh: however the sensor ends, the interface is left clean: no XDP program on it
# (`ip link`), ours gone from the kernel (`bpftool prog show id`), no guardian left. Cases:
# SIGINT, SIGTERM, SIGTERM after dropping root to nobody (which must still capture: the
# replayed capture's transactions are in its smtp.json, and it runs with no capability),
# SIGKILL (only the detach guardian can clean up), an error after attaching (log dir that
# cannot be made), and an interface that does not exist (a clear error, nothing attached).
#
# usage: afxdp_detach.sh RELAYWATCH		(exit 77 when not root or a tool is missing)
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
replay="$here/../corpus/captures/zeek/testing/btest/Traces/smtp.pcap"
[[ -f $replay ]] || rw_skip "missing $replay"
afx_tap_add 1

for sig in INT TERM; do
	afx_sensor_start "$RW_TMP/$sig"
	afx_sensor_stop "$sig"
	afx_assert_detached
	rw_log "SIG$sig: detached"
done

# Dropped to nobody: still captures, holds no capability, and still detaches at exit.
dir="$RW_TMP/nobody"
mkdir -p "$dir"
chown nobody "$dir"
chmod 755 "$RW_TMP"
afx_sensor_start "$dir" --user nobody
grep -q "dropped root" "$AFX_LOG" || rw_die "no privilege drop logged"
uid=$(awk '/^Uid:/{print $3}' "/proc/$AFX_PID/status")
cap=$(awk '/^CapEff:/{print $2}' "/proc/$AFX_PID/status")
[[ $uid == "$(id -u nobody)" ]] || rw_die "sensor runs as uid $uid, not nobody"
[[ $cap == 0000000000000000 ]] || rw_die "sensor kept capabilities $cap"
rw_rexec tcpreplay -q --pps 2000 -i "$AFX_TAP" "$replay" >"$RW_TMP/tcpreplay.log" 2>&1 ||
	rw_die "tcpreplay: $(cat "$RW_TMP/tcpreplay.log")"
afx_sensor_stop TERM
afx_assert_detached
n=$(grep -c '"mailfrom"' "$dir/smtp.json" || true)
[[ $n == 2 ]] || rw_die "as nobody the sensor logged $n of the 2 transactions"
[[ -s $dir/stats.json ]] || rw_die "as nobody the sensor wrote no stats.json"
rw_log "--user nobody: captured $n transactions without capabilities, detached"

# SIGKILL: nothing of the sensor runs its exit path; the guardian must detach (bounded).
afx_sensor_start "$RW_TMP/kill"
kill -s KILL "$AFX_PID"
wait "$AFX_PID" 2>/dev/null || true
# The guardian detaches once it sees the sensor gone: bounded wait, then the usual checks.
rw_wait 300 afx_pid_gone "$AFX_GUARD" || rw_die "guardian $AFX_GUARD alive 30 s after SIGKILL"
afx_assert_detached
rw_log "SIGKILL: the guardian detached"

# An error after attaching: the log directory cannot be made.
AFX_PROG_ID=""
rc=0
rw_exec sensor "$AFX_BIN" --afxdp "$AFX_TAP_S" -l /proc/no/such/dir --report none -v \
	>"$RW_TMP/err.log" 2>&1 || rc=$?
[[ $rc != 0 ]] || rw_die "the sensor accepted a log dir it cannot create"
grep -q "xdp_smtp_redirect attached to $AFX_TAP_S" "$RW_TMP/err.log" ||
	rw_die "the error did not come after attaching: $(cat "$RW_TMP/err.log")"
grep -q "xdp_smtp_redirect detached" "$RW_TMP/err.log" || rw_die "no detach on the error path"
afx_assert_detached
rw_log "error after set-up (exit $rc): detached"

# No such interface: a clear message, EX_NOINPUT, nothing attached anywhere.
rc=0
rw_exec sensor "$AFX_BIN" --afxdp rw-no-such-if0 --report none >"$RW_TMP/noif.log" 2>&1 || rc=$?
[[ $rc == 66 ]] || rw_die "no such interface: exit $rc, want 66 (EX_NOINPUT)"
grep -q "no interface named 'rw-no-such-if0'" "$RW_TMP/noif.log" ||
	rw_die "no such interface: unclear message: $(cat "$RW_TMP/noif.log")"
rw_log "PASS: detached after SIGINT, SIGTERM, privilege drop, SIGKILL and a set-up error"
