#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dpdk_split_tap.sh: an optical tap delivers each direction of the link on its own port. Each
# capture is split by direction (client->server frames in one file, server->client in the
# other) and replayed through two net_pcap vdevs, i.e. two DPDK ports. With one worker and
# with two (the software symmetric hash then spreads the flows), the transaction log must
# equal that of `relaywatch -r` on the whole capture, record for record: the two directions
# of every connection met again, in capture order, on one worker.
#
# usage: dpdk_split_tap.sh RELAYWATCH		(exit 77 when not root or DPDK is missing)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/dpdk_common.sh
. "$here/dpdk_common.sh"
dpdk_init "${1:-}"
dpdk_require_pmd pcap
DPDK_OPTS=(-c "$(dpdk_small_config)")

captures=(
	"$DPDK_CORPUS/zeek/testing/btest/Traces/smtp.pcap"
	"$DPDK_CORPUS/suricata-verify/tests/smtp-bdat-pipelined-next-mail/input.pcap"
	"$DPDK_CORPUS/arkime/tests/pcap/smtp-starttls.pcap"
	"$DPDK_CAPTURES/pipelining.pcap"
)
for f in "${captures[@]}"; do
	[[ -f $f ]] || dpdk_die "missing capture $f"
	name=$(basename "$(dirname "$f")")-$(basename "$f" .pcap)
	d1=$DPDK_TMP/$name.to-server.pcap
	d2=$DPDK_TMP/$name.to-client.pcap
	dpdk_split "$f" "$d1" "$d2"
	dpdk_run_r "$DPDK_TMP/$name.r" "$f"
	[[ $(wc -l <"$DPDK_TMP/$name.r/smtp.json") -gt 0 ]] || dpdk_die "$name: -r found nothing"
	read -r -d '' r_pkts r_one <<<"$(dpdk_stat "$DPDK_TMP/$name.r" packets flows_one_sided)" || true
	for w in 1 2; do
		out=$DPDK_TMP/$name.w$w
		dpdk_run "$out" --workers "$w" -- "net_pcap0,rx_pcap=$d1" "net_pcap1,rx_pcap=$d2"
		dpdk_same_records "$DPDK_TMP/$name.r/smtp.json" "$out/smtp.json" ||
			dpdk_die "$name: two ports, $w worker(s): differs from -r on the whole capture"
		read -r -d '' pkts one q0 q1 <<<"$(dpdk_stat "$out" packets flows_one_sided \
			queues.0.pkts queues.1.pkts)" || true
		[[ $pkts == "$r_pkts" ]] || dpdk_die "$name: $w worker(s): not every frame reached a worker"
		# Both ports were read: one queue each in stats.json, neither empty.
		[[ $q0 -gt 0 && $q1 -gt 0 ]] || dpdk_die "$name: a port delivered nothing"
		[[ $one == "$r_one" ]] || dpdk_die "$name: $w worker(s): a connection was split between workers"
	done
	dpdk_log "$name: equal with 1 and 2 workers"
done
dpdk_log "PASS: ${#captures[@]} split captures equal to -r"
