#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The collector dies (SIGKILL) while a sensor is sending, and comes back on the
# same database and port. The sensor (relaywatch -r --spool DIR, mutual TLS)
# keeps going: it reconnects with back-off, re-sends what was not acknowledged,
# and exits 0 once everything is. Every alert of its alerts.json is in the store
# exactly once: nothing lost, nothing twice.
#
# 2000 clients refused by a blocklist (blocklisted.pcap, one per client) make
# 2000 alerts and as many host summaries. So that the kill lands mid-stream on
# any machine, the test runs in a network namespace of its own whose loopback
# is shaped to 2 Mbit/s (tbf): the stream takes seconds whatever the CPU.
#
# usage: system_collector_crash.sh RELAYWATCH_COLLECTOR RELAYWATCH
set -uo pipefail
if [[ -z ${SYS_NETNS:-} ]]; then
	# Before anything is made: exec leaves no trap behind.
	[[ $(id -u) -eq 0 ]] || { echo "SKIP: not root"; exit 77; }
	for t in unshare ip tc; do
		command -v "$t" >/dev/null || { echo "SKIP: missing tool: $t"; exit 77; }
	done
	unshare -n true 2>/dev/null || { echo "SKIP: cannot make a network namespace"; exit 77; }
	SYS_NETNS=1 exec unshare -n -- bash "$0" "$@"
fi
. "$(dirname "$0")/system_lib.sh"
sys_init "${1:-}" "${2:-}"
ip link set lo up mtu 1500 || cl_skip "loopback of the namespace"
tc qdisc add dev lo root tbf rate 2mbit burst 16kb latency 2s || cl_skip "tc tbf on loopback"

N=2000
DB=$CL_TMP/c.db
sys_pcap "$CL_TMP/many.pcap" "$SYS_CAPS/blocklisted.pcap:$N:10.1.0.1"
PORT=$(cl_free_port)
mkdir -p "$CL_TMP/s"

stored()
{
	sys_sql "$DB" 'SELECT COUNT(*) FROM alerts' 2>/dev/null || echo 0
}

some_stored()
{
	(($(stored) > 0))
}

cl_start --db "sqlite:$DB" "${CL_TLS_SERVER[@]}" --listen "127.0.0.1:$PORT"
[[ $CL_PORT == "$PORT" ]] || cl_die "collector on port $CL_PORT, want $PORT"
# shellcheck disable=SC2046 # sys_tls gives several words on purpose
cl_bg "$CL_TMP/s/err" "$SYS_RW" -r "$CL_TMP/many.pcap" --home-net 10.0.0.0/8 -l "$CL_TMP/s" \
	--report none --collector "127.0.0.1:$PORT" $(sys_tls sensor-a) --sensor-id sensor-a \
	--spool "$CL_TMP/s/spool"
sensor=$CL_BG_PID
cl_wait 600 some_stored || cl_die "nothing stored in 60 s"
kill -KILL "$CL_PID"
wait "$CL_PID" 2>/dev/null
n0=$(stored)
kill -0 "$sensor" 2>/dev/null || cl_die "the sensor had finished before the kill ($n0 stored)"
cl_log "collector killed with $n0 alerts stored; the sensor goes on"

cl_start --db "sqlite:$DB" "${CL_TLS_SERVER[@]}" --listen "127.0.0.1:$PORT"
cl_wait 1200 cl_gone "$sensor" || cl_die "the sensor did not finish within 120 s of the restart"
wait "$sensor"
rc=$?
[[ $rc == 0 ]] || cl_die "the sensor exited $rc: $(grep -i 'collector' "$CL_TMP/s/err" | tail -n 5)"

lines=$(wc -l <"$CL_TMP/s/alerts.json")
[[ $lines == "$N" ]] || cl_die "alerts.json has $lines alerts, want one per client ($N)"
((n0 < N)) || cl_die "all $N alerts were stored before the kill: nothing was tested"
out=$(sys_check alerts "$DB" sensor-a="$CL_TMP/s/alerts.json") || cl_die "after the restart: $out"
reconnects=$(sys_count "$CL_TMP/s/err" reconnects)
resent=$(sys_count "$CL_TMP/s/err" resent)
((reconnects >= 1 && resent >= 1)) ||
	cl_die "the sensor did not reconnect and re-send: $(grep 'collector ' "$CL_TMP/s/err")"
[[ $(sys_count "$CL_TMP/s/err" left) == 0 ]] || cl_die "frames left in the spool"
dups=$(cl_metric relaywatch_collector_dedup_hits_total)
cl_log "PASS: $out exactly once ($n0 before the kill); the sensor reconnected $reconnects" \
	"time(s), re-sent $resent frames, $dups of them already stored"
