#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# afxdp_conn_rate.sh: the XDP pre-filter's per-source counters reach the detector. A home host
# (the lab client, 192.0.2.10) opens many SMTP sessions that go encrypted at once (STARTTLS on
# the submission port 587, swaks --quit-after TLS) to a single server: user space sees one server and no
# transaction, so the fan-out evidence (distinct foreign MX servers) stays quiet, while the
# program counts every connection the host starts in the kernel. With min_xdp_flows lowered
# to 12, the live sensor must raise direct_mx_bot for the client with the xdp_smtp_flows
# counter, and `relaywatch -r` on a recording of the same frames must not (no XDP there): the
# alert came from the BPF counters. The sensor runs with --user nobody, so this also proves
# that the maps and sockets are read after the privilege drop (uid 65534, no capability).
#
# usage: afxdp_conn_rate.sh RELAYWATCH		(exit 77 when not root or a tool is missing)
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

afx_init swaks tcpdump
pf_require
id nobody >/dev/null 2>&1 || rw_skip "no user nobody"
swaks --version >/dev/null 2>&1 || rw_skip "swaks does not run"

CONNS=15
rw_topo_basic
# Postfix with STARTTLS (port 587).
pf_create sub server submission domain=example.org
pf_start sub
afx_tap_add 1 p-client

cat >"$RW_TMP/rate.yaml" <<EOF
home_net: [192.0.2.0/24, "2001:db8:1::/64"]
detectors:
  direct_mx_bot:
    min_xdp_flows: 12
EOF
live="$RW_TMP/live"
mkdir -p "$live"
chown nobody "$live"
# A busy machine may not run tcpdump for a while: a big buffer loses nothing meanwhile.
RW_CAPTURE_BUFFER_KIB=65536 rw_capture_start "$AFX_TAP" "$RW_TMP/tap.pcap"
afx_sensor_start "$live" -c "$RW_TMP/rate.yaml" --user nobody

# Dropped for good: uid and every capability set of the running sensor.
st=/proc/$AFX_PID/status
[[ $(awk '/^Uid:/ { print $2 $3 $4 $5 }' "$st") == 65534655346553465534 ]] ||
	rw_die "sensor uid: $(grep '^Uid:' "$st")"
for c in CapPrm CapEff CapBnd CapAmb; do
	[[ $(awk -v k="$c:" '$1 == k { print $2 }' "$st") == 0000000000000000 ]] ||
		rw_die "sensor still holds $(grep "^$c:" "$st")"
done
[[ $(awk '$1 == "NoNewPrivs:" { print $2 }' "$st") == 1 ]] || rw_die "sensor: no_new_privs not set"

# 30 s per reply, as in dpdk_af_packet.sh: the sensor's polling threads and the suite share
# 2 CPUs with postfix. Each session stays bounded: 120 s.
for ((i = 1; i <= CONNS; i++)); do
	rw_exec client timeout 120 swaks --timeout 30 --helo client.example.net \
		-s "$(rw_addr4 server)" -p 587 --tls --quit-after TLS >"$RW_TMP/swaks.log" 2>&1 ||
		rw_die "swaks STARTTLS $i: $(tail -5 "$RW_TMP/swaks.log")"
done
grep -q "TLS started" "$RW_TMP/swaks.log" || rw_die "no TLS session: $(tail -5 "$RW_TMP/swaks.log")"
rw_wait_tcp_idle client 587
rw_capture_stop "$RW_TMP/tap.pcap"
afx_sensor_stop INT
afx_assert_detached
grep -q "dropped root: now uid 65534" "$AFX_LOG" || rw_die "no privilege drop in the log"

alert_flows()
{
	python3 - "$1" <<'EOF'
import json, sys
n = 0
for line in open(sys.argv[1]):
    a = json.loads(line)
    if a["kind"] == "direct_mx_bot" and a["host"] == "192.0.2.10":
        for c in a["counters"]:
            if c["name"] == "xdp_smtp_flows":
                n = max(n, int(c["value"]))
print(n)
EOF
}
flows=$(alert_flows "$live/alerts.json")
# (A retransmitted SYN counts again: at most twice each.)
[[ $flows -ge 12 && $flows -le $((2 * CONNS)) ]] ||
	rw_die "live: no direct_mx_bot from the XDP counters (xdp_smtp_flows $flows): $(cat "$live/alerts.json")"
[[ $(afx_stat "$live/stats.json" smtp_tls_sessions) -ge $CONNS ]] ||
	rw_die "the workers did not see $CONNS STARTTLS sessions"

"$AFX_BIN" -q --report none -c "$RW_TMP/rate.yaml" -r "$RW_TMP/tap.pcap" -l "$RW_TMP/ref" ||
	rw_die "relaywatch -r on the tap recording failed"
! grep -q '"direct_mx_bot"' "$RW_TMP/ref/alerts.json" ||
	rw_die "-r raised direct_mx_bot without XDP counters: the test proves nothing"
afx_tx_json "$live/smtp.json" >"$RW_TMP/live.tx"
afx_tx_json "$RW_TMP/ref/smtp.json" >"$RW_TMP/ref.tx"
diff -u "$RW_TMP/ref.tx" "$RW_TMP/live.tx" >&2 || rw_die "live smtp.json differs from -r"
rw_log "PASS: direct_mx_bot from $flows connections counted in XDP, under uid 65534"
