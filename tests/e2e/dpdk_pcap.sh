#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dpdk_pcap.sh: a net_pcap vdev replaying a capture (rx_pcap=FILE) gives the same transaction
# log as `relaywatch -r FILE`: every record whole (time stamps and uids included: net_pcap
# hands over the capture's microsecond times), in any order, and the same packet count. The
# captures cover IPv4 and IPv6, 802.1Q, pipelining, BDAT, STARTTLS, AUTH, and frames larger
# than one mbuf (smtp-long-DATA-line: 15 kB GRO frames, chained by net_pcap, linearised by
# the source and counted in stats.json). The run ends by itself: --exit-idle.
#
# usage: dpdk_pcap.sh RELAYWATCH		(exit 77 when not root or DPDK is missing)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/dpdk_common.sh
. "$here/dpdk_common.sh"
dpdk_init "${1:-}"
dpdk_require_pmd pcap
DPDK_OPTS=(-c "$(dpdk_small_config)")

sv=$DPDK_CORPUS/suricata-verify/tests
captures=(
	"$DPDK_CORPUS/zeek/testing/btest/Traces/smtp.pcap"
	"$DPDK_CORPUS/zeek/testing/btest/Traces/smtp-mail-transactions-invalid.pcap"
	"$sv/smtp-long-DATA-line/input.pcap"
	"$sv/smtp-pipelined-post-data-rset-sequence/input.pcap"
	"$DPDK_CAPTURES/ipv6.pcap"
	"$DPDK_CAPTURES/vlan.pcap"
	"$DPDK_CAPTURES/bdat.pcap"
	"$DPDK_CAPTURES/starttls.pcap"
	"$DPDK_CAPTURES/auth-login-success.pcap"
)
total=0
for f in "${captures[@]}"; do
	[[ -f $f ]] || dpdk_die "missing capture $f"
	name=$(basename "$(dirname "$f")")-$(basename "$f" .pcap)
	dpdk_run_r "$DPDK_TMP/$name.r" "$f"
	dpdk_run "$DPDK_TMP/$name.d" -- "net_pcap0,rx_pcap=$f"
	n=$(wc -l <"$DPDK_TMP/$name.r/smtp.json")
	[[ $n -gt 0 ]] || dpdk_die "$name: -r found no transaction"
	dpdk_same_records "$DPDK_TMP/$name.r/smtp.json" "$DPDK_TMP/$name.d/smtp.json" ||
		dpdk_die "$name: --dpdk net_pcap differs from -r"
	keys=(packets smtp_sessions flows_created)
	[[ $(dpdk_stat "$DPDK_TMP/$name.r" "${keys[@]}") == $(dpdk_stat "$DPDK_TMP/$name.d" "${keys[@]}") ]] ||
		dpdk_die "$name: ${keys[*]} differ"
	lost=$(dpdk_stat "$DPDK_TMP/$name.d" src_nic_missed src_ring_full src_steer_full \
		src_multiseg_dropped | sort -u)
	[[ $lost == 0 ]] || dpdk_die "$name: frames lost on the way to the workers"
	total=$((total + n))
	dpdk_log "$name: $n transactions equal"
done
# 3 of its 48 frames exceed one mbuf (2 kB): each was copied whole, none dropped.
name=smtp-long-DATA-line-input
[[ $(dpdk_stat "$DPDK_TMP/$name.d" src_multiseg_copied) -gt 0 ]] ||
	dpdk_die "$name: no chained frame was linearised"
dpdk_log "PASS: ${#captures[@]} captures, $total transactions equal to -r"
