#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# TLS misconfigured, then fixed: nothing lost. The documented behaviour of a
# `relaywatch -r` that cannot deliver: it keeps retrying with back-off while it
# reads, then waits for acks until collector.drain_timeout passes without one,
# logs the reason in words with where the frames are, and exits 69
# (EX_UNAVAILABLE); the frames stay in --spool DIR for the next run.
#
# One sensor id, one spool, one TLS collector; runs in turn:
#   1. --tls-ca of another CA: the collector's certificate is not trusted
#   2. an expired client certificate: warned at start, refused, "renew it"
#   3. no client certificate: the command line is refused (exit 64)
#   4. --collector-plaintext to the TLS port: the collector drops it
#   5. the right certificates: exit 0, and the store holds the alerts of run 1
#      exactly once (runs 2-5 read an empty capture, so there are no others)
# The collector counts each refused handshake (closes by reason tls_handshake).
# A client certificate of an unknown CA takes the path of the expired one (the
# collector's TLS alert); test_export_pb_our_certificate_refused covers it.
#
# usage: system_tls.sh RELAYWATCH_COLLECTOR RELAYWATCH
set -uo pipefail
. "$(dirname "$0")/system_lib.sh"
sys_init "${1:-}" "${2:-}"

DB=$CL_TMP/c.db
PKI=$CL_TMP/pki
SPOOL=$CL_TMP/spool
sys_cert old -days -1
sys_pcap "$CL_TMP/empty.pcap"
printf 'home_net: [192.0.2.0/24]\ncollector:\n  drain_timeout: 3s\n' >"$CL_TMP/s.yaml"
cl_start --db "sqlite:$DB" "${CL_TLS_SERVER[@]}"
ADDR=127.0.0.1:$CL_PORT
HANDSHAKES='relaywatch_collector_connection_closes_total{reason="tls_handshake"}'

# run NAME CAPTURE ARGS...: the sensor with the common options; output in $CL_TMP/NAME.
run()
{
	local name=$1 cap=$2
	shift 2
	mkdir -p "$CL_TMP/$name"
	sys_sensor "$CL_TMP/$name/err" -c "$CL_TMP/s.yaml" -r "$cap" -l "$CL_TMP/$name" \
		--report none --collector "$ADDR" --sensor-id sensor-a --spool "$SPOOL" "$@"
}

# refused NAME CAPTURE WHY ARGS...: the run exits 69 naming WHY, the frames stay in
# the spool, the collector counted at least one more refused handshake.
refused()
{
	local name=$1 cap=$2 why=$3 before rc
	shift 3
	before=$(cl_metric "$HANDSHAKES")
	run "$name" "$cap" "$@"
	rc=$?
	[[ $rc == 69 ]] || cl_die "$name: exit $rc, want 69: $(tail -n 5 "$CL_TMP/$name/err")"
	sys_expect_in "$CL_TMP/$name/err" "$why" "$name"
	grep -F "nothing acknowledged for 3 s (" "$CL_TMP/$name/err" | grep -qF -- "$why" ||
		cl_die "$name: the final error does not give the reason"
	sys_expect_in "$CL_TMP/$name/err" "not delivered stay in $SPOOL for the next run" "$name"
	cl_wait 50 cl_metric_ge "$HANDSHAKES" $((${before%.*} + 1)) ||
		cl_die "$name: the collector counted no refused handshake"
	cl_log "$name: exit 69, '$why', $(cl_metric "$HANDSHAKES") handshakes refused so far"
}

refused wrong-ca "$SYS_CAPS/blocklisted.pcap" \
	"the collector's certificate is not trusted: self-signed certificate in certificate chain (checked against the CA file $PKI/rogue-ca.crt)" \
	--tls-cert "$PKI/sensor-a.crt" --tls-key "$PKI/sensor-a.key" --tls-ca "$PKI/rogue-ca.crt"
[[ $(wc -l <"$CL_TMP/wrong-ca/alerts.json") -ge 1 ]] || cl_die "run 1 made no alert"
[[ $(sys_sql "$DB" 'SELECT COUNT(*) FROM alerts') == 0 ]] || cl_die "stored through a refused handshake"

refused expired "$CL_TMP/empty.pcap" \
	"the collector refused our certificate $PKI/old.crt (TLS alert 'certificate expired'): it is not valid now (valid until" \
	--tls-cert "$PKI/old.crt" --tls-key "$PKI/old.key" --tls-ca "$PKI/ca.crt"
sys_expect_in "$CL_TMP/expired/err" "collector TLS certificate $PKI/old.crt expired (valid until" \
	"expired: no warning at start"

run no-cert "$CL_TMP/empty.pcap" --tls-ca "$PKI/ca.crt"
rc=$?
[[ $rc == 64 ]] || cl_die "no-cert: exit $rc, want 64 (usage)"
sys_expect_in "$CL_TMP/no-cert/err" \
	"--collector needs --tls-cert, --tls-key and --tls-ca, or --collector-plaintext" "no-cert"
cl_log "no-cert: exit 64, refused on the command line"

refused plaintext "$CL_TMP/empty.pcap" \
	"before acknowledging anything (this sensor speaks plain TCP, --collector-plaintext: does the collector expect TLS?)" \
	--collector-plaintext

# Fixed: everything the failed runs kept is delivered, once.
# shellcheck disable=SC2046 # sys_tls gives several words on purpose
run fixed "$CL_TMP/empty.pcap" $(sys_tls sensor-a) || cl_die "fixed: exit $?: $(tail -n 5 "$CL_TMP/fixed/err")"
sys_expect_in "$CL_TMP/fixed/err" "of earlier runs to send" "fixed: spool not read back"
[[ $(sys_count "$CL_TMP/fixed/err" left) == 0 ]] || cl_die "fixed: frames left in the spool"
out=$(sys_check alerts "$DB" sensor-a="$CL_TMP/wrong-ca/alerts.json") || cl_die "after the fix: $out"
cl_log "PASS: 4 misconfigurations refused with their reason (3 counted by the collector); after the fix $out of run 1 stored once"
