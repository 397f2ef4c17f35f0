#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Floods and bounds: the sensor on captures of hostile traffic with legitimate
# SMTP sessions mixed in, under a configuration with small limits so that
# every cap is hit. For each capture it checks that the run succeeds, that
# the counters in stats.json say what was evicted or cut, that peak RSS stays
# under a bound made of the sensor's own accounting (check_run.py), and that
# every legitimate session is in smtp.json.
#
# Captures are generated at test time in a temporary directory (at most one
# at a time on disk, < 100 MB) and removed afterwards.
#
# usage: flood.sh RELAYWATCH GEN_HOSTILE [GEN_TRAFFIC] [CASE...]
#   GEN_TRAFFIC: bench/gen_traffic for the SYN flood ("" or absent: gen_hostile's)
set -uo pipefail

rw=${1:?usage: flood.sh RELAYWATCH GEN_HOSTILE [GEN_TRAFFIC] [CASE...]}
gen=${2:?usage: flood.sh RELAYWATCH GEN_HOSTILE [GEN_TRAFFIC] [CASE...]}
gent=${3:-}
shift $(($# < 3 ? $# : 3))
here=$(cd "$(dirname "$0")" && pwd)
check="$here/check_run.py"

if ! command -v python3 >/dev/null || [ ! -x /usr/bin/time ]; then
	echo "SKIP: needs python3 and /usr/bin/time"
	exit 77
fi
work=$(mktemp -d /tmp/relaywatch-flood.XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=0
LEGIT=16

# Small limits: every cap below is hit by one of the cases.
cat >"$work/stress.yaml" <<'EOF'
limits:
  flows_per_worker: 65536
  reasm_bytes_per_flow: 16KiB
  reasm_bytes_per_worker: 4MiB
  smtp_sessions_per_worker: 4096
  smtp_max_line: 1KiB
  smtp_max_header_bytes: 16KiB
  event_ring_bytes: 4MiB
  hosts: 4096
  accounts: 1024
EOF
# Sessions stuck in DATA: the flow table (LRU) is what reclaims them, so it is
# the smaller bound here; the message parsers (a quarter of the sessions) run out.
sed -e 's/flows_per_worker: .*/flows_per_worker: 4096/' \
	-e 's/smtp_sessions_per_worker: .*/smtp_sessions_per_worker: 8192/' \
	"$work/stress.yaml" >"$work/stuck.yaml"

# $1 config, $2 capture, $3 out dir (peak RSS in KiB goes to $3/rss); sets rc
run_sensor() {
	rm -rf "$3"
	mkdir -p "$3"
	/usr/bin/time -f '%M' -o "$3/rss" "$rw" -q -c "$1" -r "$2" -l "$3" --report none \
		>"$3/stdout" 2>"$3/stderr"
	rc=$?
}

# The same configuration on legitimate sessions alone: what code, libraries and
# the signature database cost before any table fills. Sets base (its out dir).
base_for() {
	base="$work/base-$(basename "$1" .yaml)"
	[ -f "$base/rss" ] && return 0
	"$gen" --case legit-only --legit "$LEGIT" -o "$work/base.pcap" >/dev/null || return 1
	run_sensor "$1" "$work/base.pcap" "$base"
	[ "$rc" -eq 0 ]
}

# $1 case, $2 config, then check_run.py expressions
flood_case() {
	local name=$1 cfg=$2 pcap="$work/$1.pcap" out="$work/out-$1"
	shift 2
	base_for "$cfg" || { echo "FAIL $name: base run"; failed=$((failed + 1)); return; }
	echo "=== $name"
	if ! "$gen" --case "$name" --legit "$LEGIT" -o "$pcap" >"$work/$name.manifest"; then
		echo "FAIL $name: generator"
		failed=$((failed + 1))
		return
	fi
	tr '\n' ' ' <"$work/$name.manifest"
	echo
	run_sensor "$cfg" "$pcap" "$out"
	rm -f "$pcap"
	if [ "$rc" -ne 0 ]; then
		echo "FAIL $name: relaywatch exited $rc"
		tail -n 20 "$out/stderr"
		failed=$((failed + 1))
		return
	fi
	# Whatever the case: the tables held no more than their configured sizes.
	python3 "$check" "$out" --legit "$LEGIT" --base "$base" "$@" \
		"flows_created - flows_evicted - flows_expired_idle - flows_expired_closed <= $(cap "$cfg" flows_per_worker)" \
		"hosts <= $(cap "$cfg" hosts) and accounts <= $(cap "$cfg" accounts)" ||
		failed=$((failed + 1))
}

# $1 config, $2 key under limits: its value
cap() {
	awk -v k="$2:" '$1 == k {print $2}' "$1"
}

# bench/gen_traffic's syn-flood: 1 Mpps of SYNs from spoofed sources beside
# real SMTP sessions (AUTH, pipelining, MIME bodies); its manifest says what
# the parser must still see.
syn_flood_bench() {
	local pcap="$work/syn.pcap" out="$work/out-syn-bench"
	base_for "$work/stress.yaml" || { echo "FAIL syn-flood: base run"; failed=$((failed + 1)); return; }
	echo "=== syn-flood (bench/gen_traffic)"
	"$gent" --profile syn-flood --seed 7 --packets 1050000 -o "$pcap" >/dev/null ||
		{ echo "FAIL syn-flood: gen_traffic"; failed=$((failed + 1)); return; }
	m() { awk -v k="$1" '$1 == k {print $2}' "$pcap.manifest"; }
	tr '\n' ' ' <"$pcap.manifest"
	echo
	run_sensor "$work/stress.yaml" "$pcap" "$out"
	rm -f "$pcap"
	[ "$rc" -eq 0 ] || { echo "FAIL syn-flood: relaywatch exited $rc"; failed=$((failed + 1)); return; }
	python3 "$check" "$out" --base "$base" \
		"flows_created >= $(m syns)" \
		'flows_evicted >= flows_created - 65536' \
		"smtp_sessions == $(m smtp_sessions)" \
		"smtp_transactions == $(m smtp_messages)" \
		"smtp_recipients == $(m smtp_recipients)" \
		"len(txs) == $(m smtp_messages)" \
		'smtp_sessions_no_slot == 0 and events_dropped == 0' \
		'hosts < 1000' \
		'flows_created - flows_evicted - flows_expired_idle - flows_expired_closed <= 65536' ||
		failed=$((failed + 1))
}

cases=${*:-syn-flood ooo-flood endless-line rcpt-flood big-message stuck-data}
for c in $cases; do
	case $c in
	syn-flood)
		if [ -n "$gent" ] && [ -x "$gent" ]; then
			syn_flood_bench
		else
			# A million SYNs from random sources; spoofed sources never reach the
			# detector's host table (no SMTP event), the flow table evicts them.
			flood_case syn-flood "$work/stress.yaml" \
				'flows_created >= 1000000' \
				'flows_evicted >= flows_created - 65536' \
				'smtp_sessions_no_slot == 0 and events_dropped == 0' \
				'hosts < 1000'
		fi
		;;
	ooo-flood)
		# 2048 flows each holding 20 KiB behind a hole: the per-flow (16 KiB) and
		# per-worker (4 MiB) reassembly caps give up on holes (gaps).
		flood_case ooo-flood "$work/stress.yaml" \
			'reasm_ooo_segments >= 2048 * 8' \
			'reasm_flow_cap_hits > 0' \
			'reasm_total_cap_hits > 0' \
			'reasm_gaps >= 1024 and smtp_gaps >= 1024' \
			'reasm_overlaps > 0'
		;;
	endless-line)
		# 64 sessions with 256 KiB lines and one with a 16 MiB line: cut at
		# smtp_max_line, counted; nothing grows.
		flood_case endless-line "$work/stress.yaml" \
			'smtp_line_too_long >= 65' \
			'smtp_messages == 16'
		;;
	rcpt-flood)
		# 100,000 RCPTs answered in batches, and 100,000 pipelined without a reply.
		flood_case rcpt-flood "$work/stress.yaml" \
			'smtp_recipients >= 200000' \
			'smtp_tx_truncated >= 2' \
			'smtp_pipeline_overflow > 0' \
			"any(t.get('mailfrom') == 'bulk0@example.com' and t.get('rcpt_count') == 100000
			     and t.get('rcpt_accepted') == 100000 and t.get('truncated')
			     and len(t.get('rcptto', [])) <= 64 for t in txs)" \
			"any(t.get('mailfrom') == 'bulk1@example.com' and t.get('rcpt_count') == 100000
			     for t in txs)"
		;;
	big-message)
		# One 50 MB message with a base64 attachment: streamed, never held.
		flood_case big-message "$work/stress.yaml" \
			'smtp_message_bytes >= 50000000' \
			"any(t.get('mailfrom') == 'big@example.com' and t.get('msg_size', 0) >= 50000000
			     and t.get('complete') for t in txs)"
		;;
	stuck-data)
		# 10,000 sessions that stop in the middle of DATA, never closed.
		flood_case stuck-data "$work/stuck.yaml" \
			'flows_evicted >= 10000 - 4096' \
			'smtp_buf_no_slot > 0' \
			'smtp_sessions_no_slot == 0 and smtp_tx_no_slot == 0'
		;;
	*)
		echo "unknown case $c"
		failed=$((failed + 1))
		;;
	esac
done
echo "flood: $failed failed"
[ "$failed" -eq 0 ]
