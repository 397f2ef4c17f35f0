#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# afxdp_queues.sh: --queues 2 on a two-queue tap. veth picks a queue per sending CPU/socket
# hash, not per connection, so the AF_XDP source says it is not symmetric and main steers in
# software (steer.c), returning frames to the thread of the queue they came from. Sixteen
# real SMTP sessions later, stats.json must show both workers used, every connection seen as
# exactly one flow on one worker (the per-worker flow counts add up to the connections and
# no worker has a one-sided flow), nothing lost, and every transaction equal to -r on a
# tcpdump recording of the tap.
#
# Each direction keeps to one RX queue, but the two directions of a connection often do not
# share one (10 of 16 in a logged run): drained by different steering threads, they reach
# the worker in another order than the wire's: a reply before its command, the client's
# EHLO and MAIL before the greeting (3 of 16 sessions misparsed there), or the SYN-ACK,
# greeting and EHLO reply before the client's SYN (1 of 16 in another run), or the client's
# whole session before the SYN-ACK (1 of 16 in ci11, when the idle workers still spun and
# starved the steering threads). tcp_reasm holds bytes that acknowledge peer bytes not
# delivered yet, each held segment until the peer reaches its own ACK (EHLO the greeting,
# MAIL the EHLO reply); bytes ahead of the peer's SYN-ACK wait for it (up to their own
# FIN); and a SYN-ACK seen first starts the peer's stream at its ACK: the wire's order comes
# back, the transactions equal -r. tests/corpus/reorder.py replays the lab captures skewed.
#
# usage: afxdp_queues.sh RELAYWATCH		(exit 77 when not root or a tool is missing)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
RELAYWATCH=${1:-${RELAYWATCH:-}}
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/e2e/postfix.sh
. "$here/postfix.sh"
# shellcheck source=tests/e2e/afxdp_common.sh
. "$here/afxdp_common.sh"
AFX_BIN=$RELAYWATCH
N=16

afx_init swaks tcpdump
rw_topo_basic
pf_create mx server mx domain=example.org
pf_user mx alice
pf_start mx
afx_tap_add 2 p-client

live="$RW_TMP/live"
# A busy machine may not run tcpdump for a while: a big buffer loses nothing meanwhile.
RW_CAPTURE_BUFFER_KIB=65536 rw_capture_start "$AFX_TAP" "$RW_TMP/tap.pcap"
afx_sensor_start "$live" --queues 2
grep -q "steered to 2 workers" "$AFX_LOG" || rw_die "two queues were not steered"
for ((i = 0; i < N; i++)); do
	fam=(-4 -s "$(rw_addr4 server)")
	((i % 2)) && fam=(-6 -s "$(rw_addr6 server)")
	rw_exec client swaks --helo client.example.net --timeout 30 "${fam[@]}" \
		--from "sender$i@example.net" --to alice@example.org --header "Subject: queues $i" \
		>"$RW_TMP/swaks$i.log" 2>&1 || rw_die "swaks $i: $(tail -5 "$RW_TMP/swaks$i.log")"
done
rw_wait_tcp_idle client 25
rw_capture_stop "$RW_TMP/tap.pcap"	# waits until the last FIN/ACK is in
if command -v ethtool >/dev/null 2>&1; then
	rw_log "tap queues: $(rw_exec sensor ethtool -S "$AFX_TAP_S" 2>/dev/null |
		grep -E 'rx_queue_[01]_xdp_packets' | tr -s ' \n' ' ')"
fi
afx_sensor_stop INT
afx_assert_detached

st="$live/stats.json"
[[ $(afx_stat "$st" smtp_sessions) == "$N" ]] ||
	rw_die "$(afx_stat "$st" smtp_sessions) SMTP sessions, want $N"
rw_log "transactions with a sender and a 250 to DATA: $(grep -c '"data_code":250' "$live/smtp.json" || true) of $N"
f0=$(afx_stat "$st" workers 0 flows)
f1=$(afx_stat "$st" workers 1 flows)
o0=$(afx_stat "$st" workers 0 flows_one_sided)
o1=$(afx_stat "$st" workers 1 flows_one_sided)
rw_log "worker 0: $f0 flows ($o0 one-sided), worker 1: $f1 flows ($o1 one-sided)"
[[ $f0 -gt 0 && $f1 -gt 0 ]] || rw_die "one worker got every connection (steering not exercised)"
[[ $((f0 + f1)) == "$N" ]] || rw_die "$((f0 + f1)) flows for $N connections: a connection was split"
[[ $o0 == 0 && $o1 == 0 ]] || rw_die "one-sided flows: a connection's directions were split"
for k in src_nic_missed src_ring_full src_fill_empty src_steer_full src_no_socket; do
	[[ $(afx_stat "$st" "$k") == 0 ]] || rw_die "stats.json: $k is not 0"
done
[[ $(afx_stat "$st" xdp redirected) == "$(afx_stat "$st" packets)" ]] ||
	rw_die "the workers did not see every redirected frame"
"$AFX_BIN" -q --report none -r "$RW_TMP/tap.pcap" -l "$RW_TMP/ref" ||
	rw_die "relaywatch -r on the tap recording failed"
afx_tx_json "$live/smtp.json" >"$RW_TMP/live.tx"
afx_tx_json "$RW_TMP/ref/smtp.json" >"$RW_TMP/ref.tx"
[[ $(grep -c '"data_code":250' "$RW_TMP/ref.tx") == "$N" ]] ||
	rw_die "-r: not $N whole transactions in the recording"
rw_log "transactions equal to -r: $(LC_ALL=C comm -12 "$RW_TMP/ref.tx" "$RW_TMP/live.tx" | wc -l) of $N"
diff -u "$RW_TMP/ref.tx" "$RW_TMP/live.tx" >&2 || rw_die "live smtp.json differs from -r"
rw_log "PASS: $N connections, each whole on one of 2 workers"
