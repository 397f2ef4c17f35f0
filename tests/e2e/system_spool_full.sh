#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The spool is full and the collector is down: the oldest HostSummary frames go,
# every Alert stays, and the counters say so. 20 clients refused by a blocklist
# (20 alerts, spread over the capture) and 6000 other sessions between distinct
# clients and servers (blocklisted.pcap and relay-denied.pcap, system_pcap.py)
# make about 14000 host summaries over 60 s of packet time, a summary period
# every 5 s: far more than collector.spool_max_bytes (1 MiB, the least allowed)
# holds. Nothing listens on the collector's port, so `relaywatch -r` gives up
# after collector.drain_timeout (exit 69) with every frame that fitted in
# --spool DIR. Then a collector starts (plain TCP, --plaintext on both sides) and
# a second run of the same sensor (an empty capture) delivers the spool: the 20
# alerts exactly once, the summaries that were kept, none of the first period.
#
# usage: system_spool_full.sh RELAYWATCH_COLLECTOR RELAYWATCH
set -uo pipefail
. "$(dirname "$0")/system_lib.sh"
sys_init "${1:-}" "${2:-}"

DB=$CL_TMP/c.db
SPOOL=$CL_TMP/spool
PORT=$(cl_free_port)
sys_pcap "$CL_TMP/mix.pcap" "$SYS_CAPS/blocklisted.pcap:20:10.2.0.1::3" \
	"$SYS_CAPS/relay-denied.pcap:6000:10.3.0.1:10.100.0.1:0.01"
sys_pcap "$CL_TMP/empty.pcap"
cat >"$CL_TMP/s.yaml" <<EOF
home_net: [10.0.0.0/8]
collector:
  spool_max_bytes: 1MiB
  summary_interval: 5s
  drain_timeout: 2s
EOF
mkdir -p "$CL_TMP/down" "$CL_TMP/up"

# The collector is down.
sys_sensor "$CL_TMP/down/err" -c "$CL_TMP/s.yaml" -r "$CL_TMP/mix.pcap" -l "$CL_TMP/down" \
	--report none --collector "127.0.0.1:$PORT" --collector-plaintext --sensor-id tap-s \
	--spool "$SPOOL"
rc=$?
[[ $rc == 69 ]] || cl_die "collector down: exit $rc, want 69: $(tail -n 5 "$CL_TMP/down/err")"
sys_expect_in "$CL_TMP/down/err" "connection refused: nothing listens on 127.0.0.1:$PORT" "down"
counts=$(sys_check stderr-counts "$CL_TMP/down/err")
alerts=$(wc -l <"$CL_TMP/down/alerts.json")
dropped=$(cl_json spool_full_summaries <<<"$counts")
left=$(cl_json left <<<"$counts")
[[ $alerts == 20 ]] || cl_die "alerts.json has $alerts alerts, want 20"
[[ $(cl_json dropped_alerts <<<"$counts") == 0 ]] || cl_die "alerts were dropped: $counts"
[[ $dropped -gt 1000 && $(cl_json dropped_summaries <<<"$counts") == "$dropped" ]] ||
	cl_die "summaries should have been dropped for spool space: $counts"
sys_expect_in "$CL_TMP/down/err" "the $left frames not delivered stay in $SPOOL for the next run" "down"
size=$(du -sb "$SPOOL" | cut -f1)
((size < 2 * 1048576)) || cl_die "the spool directory holds $size bytes for 1 MiB"
cl_log "collector down: $dropped summaries dropped for spool space, 0 alerts; $left frames kept ($size bytes on disk)"

# The collector is back: the spool is delivered.
cl_start --db "sqlite:$DB" --plaintext --listen "127.0.0.1:$PORT"
sys_sensor "$CL_TMP/up/err" -c "$CL_TMP/s.yaml" -r "$CL_TMP/empty.pcap" -l "$CL_TMP/up" \
	--report none --collector "127.0.0.1:$PORT" --collector-plaintext --sensor-id tap-s \
	--spool "$SPOOL" || cl_die "delivery run: exit $?: $(tail -n 5 "$CL_TMP/up/err")"
[[ $(sys_count "$CL_TMP/up/err" acked) == "$left" && $(sys_count "$CL_TMP/up/err" left) == 0 ]] ||
	cl_die "delivery run: $(grep 'collector ' "$CL_TMP/up/err"), want $left acknowledged"
out=$(sys_check alerts "$DB" tap-s="$CL_TMP/down/alerts.json") || cl_die "alerts: $out"
summaries=$(sys_sql "$DB" 'SELECT COUNT(*) FROM summaries')
[[ $summaries == $((left - alerts)) ]] || cl_die "$summaries summaries stored, want $((left - alerts))"
# Oldest first: the first period's clients (10.3.0.1 from t=0) lost their summaries,
# the last ones (10.3.23.112 at t=60 s) kept theirs.
first=$(sys_sql "$DB" "SELECT COUNT(*) FROM summaries WHERE host = '10.3.0.1'")
last=$(sys_sql "$DB" "SELECT COUNT(*) FROM summaries WHERE host = '10.3.23.112'")
[[ $first == 0 && $last -ge 1 ]] ||
	cl_die "not the oldest summaries dropped: 10.3.0.1 has $first, 10.3.23.112 has $last"
cl_log "PASS: $out exactly once; $summaries summaries kept, the oldest $dropped dropped"
