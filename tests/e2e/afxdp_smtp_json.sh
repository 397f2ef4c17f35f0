#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# afxdp_smtp_json.sh: live AF_XDP capture writes the same transactions as `relaywatch -r` on a
# tcpdump capture of the same frames. Real SMTP (postfix MX, swaks over IPv4 and IPv6, one
# accepted and one refused recipient) crosses the lab router; the client's router port is
# mirrored onto the sensor's tap, and a public capture (Zeek's smtp.pcap) is replayed into
# the tap with tcpreplay, with the lab's blocklisted capture (its MX names the client, home
# here, in a Spamhaus reply). tcpdump records the tap's router end meanwhile. Then smtp.json
# of the live run and of `-r` on that recording must be equal line for line, except ts and
# uid (see afx_tx_json), alerts.json too (except times and flow uids: afx_alert_json), and
# the sensor must have lost nothing.
#
# usage: afxdp_smtp_json.sh RELAYWATCH		(exit 77 when not root or a tool is missing)
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

afx_init swaks tcpdump tcpreplay
replay="$here/../corpus/captures/zeek/testing/btest/Traces/smtp.pcap"
blocked="$here/../captures/blocklisted.pcap"
[[ -f $replay && -f $blocked ]] || rw_skip "missing $replay or $blocked"
HOME_NET=(--home-net 192.0.2.0/24)

rw_topo_basic
pf_create mx server mx domain=example.org
pf_user mx alice
pf_start mx
afx_tap_add 1 p-client

live="$RW_TMP/live"
# A busy machine may not run tcpdump for a while: a big buffer loses nothing meanwhile.
RW_CAPTURE_BUFFER_KIB=65536 rw_capture_start "$AFX_TAP" "$RW_TMP/tap.pcap"
afx_sensor_start "$live" "${HOME_NET[@]}"

# 30 s per reply, as in dpdk_af_packet.sh: the sensor's polling threads and the suite share
# 2 CPUs with postfix, whose first RCPT starts its lookup services.
S=(swaks --helo client.example.net --timeout 30 --from sender@example.net)
rw_exec client "${S[@]}" -s "$(rw_addr4 server)" --to alice@example.org \
	--header "Subject: afxdp v4" >"$RW_TMP/swaks1.log" 2>&1 || rw_die "swaks v4: $(tail -5 "$RW_TMP/swaks1.log")"
rw_exec client "${S[@]}" -6 -s "$(rw_addr6 server)" --to alice@example.org \
	--header "Subject: afxdp v6" >"$RW_TMP/swaks2.log" 2>&1 || rw_die "swaks v6: $(tail -5 "$RW_TMP/swaks2.log")"
# An unknown user: 550 5.1.1, swaks exits 24 on purpose.
rw_exec client "${S[@]}" -s "$(rw_addr4 server)" --to nobody@example.org \
	>"$RW_TMP/swaks3.log" 2>&1 && rw_die "swaks to an unknown user was accepted"
rw_wait_tcp_idle client 25
# Frames of another network, only ever on the tap: paced so no queue on the way overflows.
rw_rexec tcpreplay -q --pps 2000 -i "$AFX_TAP" "$replay" "$blocked" >"$RW_TMP/tcpreplay.log" 2>&1 ||
	rw_die "tcpreplay: $(cat "$RW_TMP/tcpreplay.log")"
rw_capture_stop "$RW_TMP/tap.pcap"
afx_sensor_stop INT
afx_assert_detached

"$AFX_BIN" -q --report none "${HOME_NET[@]}" -r "$RW_TMP/tap.pcap" -l "$RW_TMP/ref" ||
	rw_die "relaywatch -r on the tap recording failed"
afx_tx_json "$live/smtp.json" >"$RW_TMP/live.tx"
afx_tx_json "$RW_TMP/ref/smtp.json" >"$RW_TMP/ref.tx"
n=$(wc -l <"$RW_TMP/ref.tx")
# 3 lab transactions, the 2 of smtp.pcap and the refused one of blocklisted.pcap.
[[ $n -ge 6 ]] || rw_die "only $n transactions from the recording: $(cat "$RW_TMP/ref.tx")"
diff -u "$RW_TMP/ref.tx" "$RW_TMP/live.tx" >&2 || rw_die "live smtp.json differs from -r"
grep -q '"helo":"GP"' "$RW_TMP/live.tx" || rw_die "the replayed capture's session is missing"
grep -q '2001:db8:1::a' "$RW_TMP/live.tx" || rw_die "the IPv6 session is missing"
afx_alert_json "$live/alerts.json" >"$RW_TMP/live.alerts"
afx_alert_json "$RW_TMP/ref/alerts.json" >"$RW_TMP/ref.alerts"
grep -q '"kind":"blocklisted"' "$RW_TMP/ref.alerts" || rw_die "-r raised no blocklisted alert"
diff -u "$RW_TMP/ref.alerts" "$RW_TMP/live.alerts" >&2 || rw_die "live alerts.json differs from -r"

# Nothing lost on the way, and every SMTP frame went through the socket.
for k in src_nic_missed src_ring_full src_fill_empty src_steer_full src_no_socket; do
	[[ $(afx_stat "$live/stats.json" "$k") == 0 ]] || rw_die "stats.json: $k is not 0"
done
red=$(afx_stat "$live/stats.json" xdp redirected)
pk=$(afx_stat "$live/stats.json" packets)
[[ $red == "$pk" && $red -gt 0 ]] || rw_die "redirected $red frames, workers saw $pk"
rw_log "PASS: $n transactions and $(wc -l <"$RW_TMP/ref.alerts") alerts equal; $pk SMTP frames, none lost"
