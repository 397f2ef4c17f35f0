#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dpdk_workers.sh: one DPDK port (net_pcap, no RSS) read by two workers: the source says it
# has one queue, so the software symmetric hash spreads the connections. Both directions of
# every connection must land on the same worker (no flow becomes one-sided that was not in
# -r, per-worker counters in stats.json), both workers must get work, and the transaction
# log must equal the single-worker one and that of `relaywatch -r` on the same capture, and so
# must the alerts (192.0.2.0/24 is home: the blocklisted capture's client is named by its
# MX's Spamhaus reply). The capture is the lab's 14 MTA captures and Zeek's smtp.pcap merged
# by time (17 connections).
#
# usage: dpdk_workers.sh RELAYWATCH		(exit 77 when not root or DPDK is missing)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/dpdk_common.sh
. "$here/dpdk_common.sh"
dpdk_init "${1:-}" mergecap
dpdk_require_pmd pcap
DPDK_OPTS=(-c "$(dpdk_small_config sigs)" --home-net 192.0.2.0/24)

all=$DPDK_TMP/merged.pcap
mergecap -F pcap -w "$all" "$DPDK_CAPTURES"/*.pcap \
	"$DPDK_CORPUS/zeek/testing/btest/Traces/smtp.pcap" || dpdk_die "mergecap"
dpdk_run_r "$DPDK_TMP/r" "$all"
dpdk_run "$DPDK_TMP/w1" --workers 1 -- "net_pcap0,rx_pcap=$all"
dpdk_run "$DPDK_TMP/w2" --workers 2 -- "net_pcap0,rx_pcap=$all"

n=$(wc -l <"$DPDK_TMP/r/smtp.json")
[[ $n -ge 16 ]] || dpdk_die "only $n transactions from -r"
dpdk_same_records "$DPDK_TMP/r/smtp.json" "$DPDK_TMP/w1/smtp.json" ||
	dpdk_die "one worker: differs from -r"
dpdk_same_records "$DPDK_TMP/w1/smtp.json" "$DPDK_TMP/w2/smtp.json" ||
	dpdk_die "two workers: differ from one worker"
na=$(wc -l <"$DPDK_TMP/r/alerts.json")
grep -q '"kind":"blocklisted"' "$DPDK_TMP/r/alerts.json" || dpdk_die "-r raised no blocklisted alert"
for w in w1 w2; do
	dpdk_same_records "$DPDK_TMP/r/alerts.json" "$DPDK_TMP/$w/alerts.json" ||
		dpdk_die "$w: alerts differ from -r"
done

read -r -d '' flows one_sided r_pkts <<<"$(dpdk_stat "$DPDK_TMP/r" flows_created \
	flows_one_sided packets)" || true
read -r -d '' f0 f1 o0 o1 steer_full pkts <<<"$(dpdk_stat "$DPDK_TMP/w2" workers.0.flows \
	workers.1.flows workers.0.flows_one_sided workers.1.flows_one_sided src_steer_full \
	packets)" || true
dpdk_log "flows: -r $flows ($one_sided one-sided); worker 0: $f0 ($o0), worker 1: $f1 ($o1)"
[[ $f0 -gt 0 && $f1 -gt 0 ]] || dpdk_die "one worker got no connection"
# A connection split over two workers would be two flows, each one-sided.
[[ $((f0 + f1)) == "$flows" ]] || dpdk_die "workers made $((f0 + f1)) flows, -r $flows"
[[ $((o0 + o1)) == "$one_sided" ]] || dpdk_die "a connection was split between the workers"
[[ $steer_full == 0 ]] || dpdk_die "the steer rings dropped frames"
[[ $pkts == "$r_pkts" ]] || dpdk_die "not every frame reached a worker"
dpdk_log "PASS: $n transactions and $na alerts equal with 1 and 2 workers"
