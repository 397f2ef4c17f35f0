#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dpdk_af_packet.sh: live DPDK capture through net_af_packet on a lab tap writes the same
# transactions as `relaywatch -r` on a tcpdump recording of the same tap. Real SMTP (postfix
# MX, swaks over IPv4 and IPv6, one refused recipient) crosses the lab router; the client's
# router port is mirrored onto the tap (lib.sh rw_mirror_add), and Zeek's smtp.pcap and the
# lab's blocklisted capture (its MX names the client, home here, in a Spamhaus reply) are
# replayed into the tap with tcpreplay. The vdev has two queue pairs (kernel fanout by the
# symmetric flow hash), read by two workers through steer.c. The sensor drops root to nobody
# after set-up (no capability left), runs until SIGTERM, then flushes and exits 0. Records
# are compared without ts and uid, alerts without their times and uids: net_af_packet gives
# no time stamp, so the sensor stamps each burst with the wall clock.
#
# usage: dpdk_af_packet.sh RELAYWATCH		(exit 77 when not root or a tool is missing)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/e2e/postfix.sh
. "$here/postfix.sh"
# shellcheck source=tests/e2e/dpdk_common.sh
. "$here/dpdk_common.sh"

rw_init swaks tcpdump tcpreplay
pf_require
dpdk_init "${1:-}"
dpdk_require_pmd af_packet
replay="$DPDK_CORPUS/zeek/testing/btest/Traces/smtp.pcap"
blocked="$DPDK_CAPTURES/blocklisted.pcap"
id nobody >/dev/null 2>&1 || rw_skip "no user nobody"
HOME_NET=(--home-net 192.0.2.0/24)
tap=rwdtap

rw_topo_basic
# One MTU-sized frame per segment: net_af_packet copies at most one mbuf (2 kB) per frame,
# and a GSO super-frame mirrored onto the tap would be cut short.
for h in client server; do
	rw_exec "$h" ip link set dev eth0 gso_max_size 1500 2>/dev/null ||
		rw_log "$h: cannot limit GSO; the frame size check below decides"
done
pf_create mx server mx domain=example.org
pf_user mx alice
pf_start mx
rw_mirror_add "$tap" p-client

live=$RW_TMP/live
mkdir -p "$live"
chown nobody "$live"
# A busy machine may not run tcpdump for a while: a big buffer loses nothing meanwhile.
RW_CAPTURE_BUFFER_KIB=65536 rw_capture_start "$tap-p" "$RW_TMP/tap.pcap"
rw_bg router "$live.log" "$DPDK_RW" -v --report none -l "$live" --workers 2 "${HOME_NET[@]}" \
	--user nobody --dpdk -- \
	"${DPDK_EAL[@]}" --vdev "net_af_packet0,iface=$tap-p,qpairs=2"
pid=$RW_LAST_PID
sensor_ready() { grep -q "capturing: " "$live.log" || ! kill -0 "$pid" 2>/dev/null; }
rw_wait 1200 sensor_ready || rw_die "sensor not capturing after 120 s: $(tail -5 "$live.log")"
kill -0 "$pid" 2>/dev/null || rw_die "sensor exited at start: $(tail -20 "$live.log")"
# Dropped for good: uid and capabilities of every thread, the EAL's own included. The
# bounding set and no_new_privs are per thread: the main thread (which starts the workers and
# the detector after the drop, so they inherit them) must have both.
for st in /proc/"$pid"/task/*/status; do
	[[ $(awk '/^Uid:/ { print $2 $3 $4 $5 }' "$st") == 65534655346553465534 ]] ||
		rw_die "sensor thread $st: $(grep '^Uid:' "$st")"
	for c in CapPrm CapEff CapAmb; do
		[[ $(awk -v k="$c:" '$1 == k { print $2 }' "$st") == 0000000000000000 ]] ||
			rw_die "sensor thread $st still holds $(grep "^$c:" "$st")"
	done
done
[[ $(awk '$1 == "CapBnd:" { print $2 }' "/proc/$pid/status") == 0000000000000000 ]] ||
	rw_die "sensor: bounding set not cleared"
[[ $(awk '$1 == "NoNewPrivs:" { print $2 }' "/proc/$pid/status") == 1 ]] ||
	rw_die "sensor: no_new_privs not set"

# 30 s per reply: the sensor's polling threads and the test suite share 2 CPUs with postfix,
# whose first RCPT starts its lookup services; a 10 s wait once timed out in CI (the 250
# came after it).
S=(swaks --helo client.example.net --timeout 30 --from sender@example.net)
rw_exec client "${S[@]}" -s "$(rw_addr4 server)" --to alice@example.org \
	--header "Subject: dpdk v4" >"$RW_TMP/swaks1.log" 2>&1 || rw_die "swaks v4: $(tail -5 "$RW_TMP/swaks1.log")"
rw_exec client "${S[@]}" -6 -s "$(rw_addr6 server)" --to alice@example.org \
	--header "Subject: dpdk v6" >"$RW_TMP/swaks2.log" 2>&1 || rw_die "swaks v6: $(tail -5 "$RW_TMP/swaks2.log")"
# An unknown user: 550 5.1.1, swaks exits non-zero on purpose.
rw_exec client "${S[@]}" -s "$(rw_addr4 server)" --to nobody@example.org \
	>"$RW_TMP/swaks3.log" 2>&1 && rw_die "swaks to an unknown user was accepted"
rw_wait_tcp_idle client 25
rw_rexec tcpreplay -q --pps 2000 -i "$tap" "$replay" "$blocked" >"$RW_TMP/tcpreplay.log" 2>&1 ||
	rw_die "tcpreplay: $(cat "$RW_TMP/tcpreplay.log")"
rw_capture_stop "$RW_TMP/tap.pcap"

# SIGTERM: the sensor finishes open transactions, writes its logs and exits 0.
kill -s TERM "$pid"
rw_wait 1200 rw_pid_gone "$pid" || rw_die "sensor still running 120 s after SIGTERM"
rc=0
wait "$pid" || rc=$?
[[ $rc == 0 ]] || rw_die "sensor exit status $rc after SIGTERM: $(tail -20 "$live.log")"

big=$(python3 - "$RW_TMP/tap.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
e = "<" if d[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
off, m = 24, 0
while off + 16 <= len(d):
    n = struct.unpack(e + "I", d[off + 8:off + 12])[0]
    m, off = max(m, n), off + 16 + n
print(m)
PY
)
[[ $big -le 2048 ]] || rw_skip "frames of $big bytes on the tap (GSO could not be limited here)"

dpdk_run_r "$RW_TMP/ref" "$RW_TMP/tap.pcap" "${HOME_NET[@]}"
n=$(wc -l <"$RW_TMP/ref/smtp.json")
# 3 lab transactions, the 2 of smtp.pcap and the refused one of blocklisted.pcap.
[[ $n -ge 6 ]] || rw_die "only $n transactions from the recording"
dpdk_same_records "$RW_TMP/ref/smtp.json" "$live/smtp.json" ts uid ||
	rw_die "live smtp.json differs from -r on the tap recording"
grep -q '"helo":"GP"' "$live/smtp.json" || rw_die "the replayed capture's session is missing"
grep -q '2001:db8:1::a' "$live/smtp.json" || rw_die "the IPv6 session is missing"
grep -q '"kind":"blocklisted"' "$RW_TMP/ref/alerts.json" || rw_die "-r raised no blocklisted alert"
dpdk_same_records "$RW_TMP/ref/alerts.json" "$live/alerts.json" ts first_ts uids ||
	rw_die "live alerts.json differs from -r on the tap recording"
grep -q "dropped root: now uid 65534" "$live.log" || rw_die "no privilege drop in the log"
lost=$(dpdk_stat "$live" src_nic_missed src_nic_errors src_ring_full src_steer_full \
	src_multiseg_dropped | sort -u)
[[ $lost == 0 ]] || rw_die "stats.json: frames lost on the way to the workers"
read -r -d '' q1 w1 one <<<"$(dpdk_stat "$live" queues.1.queue workers.1.pkts flows_one_sided)" ||
	true
[[ $q1 == 1 ]] || rw_die "stats.json: not two queues"
[[ $w1 -ge 0 ]] || rw_die "stats.json: not two workers"
[[ $one == $(dpdk_stat "$RW_TMP/ref" flows_one_sided) ]] ||
	rw_die "a connection was split between the workers"
# net_af_xdp puts an XDP program on the interface and takes it off in rte_eth_dev_close(),
# which needs root: --user must be refused before the first packet, and the interface must
# be left clean.
if [[ -e $DPDK_PMDS/librte_net_af_xdp.so ]]; then
	rc=0
	rw_rexec timeout -k 5 120 "$DPDK_RW" -q --report none --exit-idle 1 --user nobody --dpdk -- \
		"${DPDK_EAL[@]}" --vdev "net_af_xdp0,iface=$tap-p" >"$RW_TMP/afxdp-user.log" 2>&1 || rc=$?
	[[ $rc != 0 ]] && grep -q "detaches its XDP program at exit" "$RW_TMP/afxdp-user.log" ||
		rw_die "net_af_xdp with --user: not refused (exit $rc): $(tail -5 "$RW_TMP/afxdp-user.log")"
	! rw_rexec ip -d link show dev "$tap-p" | grep "prog/xdp" >/dev/null ||
		rw_die "net_af_xdp left its XDP program on $tap-p"
fi
rw_log "PASS: $n transactions and $(wc -l <"$live/alerts.json") alerts equal; $(dpdk_stat "$live" packets) frames, none lost"
