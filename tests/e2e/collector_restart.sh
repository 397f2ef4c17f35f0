#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Exactly once across a crash: a sensor streams alerts, the collector is killed
# (SIGKILL) in the middle, restarted on the same database, and the sensor
# re-sends everything of its run (same run_id and seq, as its spool does).
# Every alert is in the store exactly once, the re-sends count as dedup hits.
# On SQLite, then on a PostgreSQL started here (skipped when not installed).
#
# usage: collector_restart.sh RELAYWATCH_COLLECTOR
set -uo pipefail
. "$(dirname "$0")/collector_lib.sh"
cl_init "${1:-}"

N=300

stored_alerts()	# the store's count, through the collector's own API
{
	curl -sf "http://127.0.0.1:$CL_HTTP/api/hosts?min_score=-1" |
		"$CL_PY" -c 'import json,sys; print(sum(h["alerts"] for h in json.load(sys.stdin)["hosts"]))'
}

acked_some()
{
	[[ $(cl_metric relaywatch_collector_acks_total) != 0 ]]
}

run_backend()	# NAME DB-URI
{
	local name=$1 db=$2 out n n0
	cl_log "$name: $db"
	cl_start --db "$db" --plaintext
	cl_client_bg "$CL_TMP/$name.first.json" send "127.0.0.1:$CL_PORT" --sensor tap-r \
		--run 5eed000000000001 --alerts $N --pace 0.01 --timeout 30
	local sender=$CL_BG_PID
	cl_wait 100 acked_some || cl_die "$name: no ack before the crash"
	kill -KILL "$CL_PID"
	wait "$CL_PID" 2>/dev/null
	wait "$sender" 2>/dev/null
	cl_log "$name: killed mid-stream: $(cat "$CL_TMP/$name.first.json")"

	cl_start --db "$db" --plaintext
	n0=$(stored_alerts) || cl_die "$name: API after restart"
	((n0 > 0 && n0 < N)) || cl_die "$name: $n0 alerts survived the crash, want some but not all"
	out=$(cl_client send "127.0.0.1:$CL_PORT" --sensor tap-r --run 5eed000000000001 \
		--alerts $N --timeout 60) || cl_die "$name: re-send not acked: $out"
	out=$(cl_client send "127.0.0.1:$CL_PORT" --sensor tap-r --run 5eed000000000001 \
		--alerts $N --timeout 60) || cl_die "$name: second re-send not acked: $out"
	n=$(stored_alerts)
	[[ $n == "$N" ]] || cl_die "$name: $n alerts stored, want exactly $N"
	n=$(cl_metric relaywatch_collector_dedup_hits_total)
	[[ $n == $((N + n0)) ]] || cl_die "$name: $n dedup hits, want $N + $n0"
	cl_stop "$CL_PID"
	cl_log "$name: $n0 stored before the crash; $N alerts exactly once after two re-sends"
}

run_backend sqlite "sqlite:$CL_TMP/c.db"
if cl_pg_start; then
	run_backend postgresql "$CL_PG_URI"
else
	cl_log "PostgreSQL not available here: SQLite only"
fi
cl_log "PASS"
