#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Mutual TLS and hostile peers: while one well-behaved sensor keeps sending
# (and getting acks), garbage, an oversized frame, protobuf that does not
# unpack, frames before the hello, an unknown CA's certificate, a sensor_id
# its certificate does not name, a frame trickled in and never finished, and a
# silent connection are each closed and counted by reason; the good sensor
# loses nothing. A CN-only certificate is accepted for its CN. The collector
# runs as nobody with no capability (it never needs root).
#
# usage: collector_tls.sh RELAYWATCH_COLLECTOR
set -uo pipefail
. "$(dirname "$0")/collector_lib.sh"
cl_init "${1:-}" openssl
cl_certs
cl_unprivileged # the collector never needs root: all of this runs as nobody

cl_start --db "sqlite:$CL_TMP/c.db" "${CL_TLS_SERVER[@]}" --hello-timeout 2 \
	--frame-timeout 2 --max-frame 65536
[[ ${#CL_RUN_AS[@]} -eq 0 ]] || cl_assert_unprivileged "$CL_PID"
addr=127.0.0.1:$CL_PORT

# The good sensor: 40 alerts over about 8 s, in the background throughout.
cl_client_bg "$CL_TMP/good.json" send "$addr" --tls "${CL_TLS_A[@]}" --sensor sensor-a \
	--run 00000000000000a1 --alerts 40 --pace 0.2 --timeout 60
good=$CL_BG_PID

abuse()	# KIND EXPECTED-REASON [client args...]
{
	local kind=$1 reason=$2 out
	shift 2
	out=$(cl_client abuse "$addr" "$kind" --wait 8 "$@")
	[[ $(cl_json closed <<<"$out") == true ]] ||
		cl_die "$kind: the collector did not close the connection: $out"
	cl_wait 50 cl_metric_ge "relaywatch_collector_connection_closes_total{reason=\"$reason\"}" 1 ||
		cl_die "$kind: no close counted as $reason"
	cl_log "$kind: closed ($reason) after $(cl_json seconds <<<"$out") s"
}

abuse garbage frame_too_big --tls "${CL_TLS_A[@]}"
abuse oversized frame_too_big --tls "${CL_TLS_A[@]}"
abuse badproto bad_protobuf --tls "${CL_TLS_A[@]}"
abuse nohello no_hello --tls "${CL_TLS_A[@]}"
abuse slow frame_timeout --tls "${CL_TLS_A[@]}"
abuse idle hello_timeout --tls "${CL_TLS_A[@]}"
abuse mismatch tls_handshake --tls "${CL_TLS_ROGUE[@]}"
# sensor-b's certificate claiming to be sensor-a: refused with a reason in the Ack.
out=$(cl_client abuse "$addr" mismatch --wait 8 --tls "${CL_TLS_B[@]}" --sensor sensor-a)
[[ $(cl_json closed <<<"$out") == true ]] || cl_die "cert mismatch not closed: $out"
[[ $(cl_json error <<<"$out") == *"does not match the client certificate"* ]] ||
	cl_die "cert mismatch: no refusal in the Ack: $out"
cl_wait 50 cl_metric_ge 'relaywatch_collector_connection_closes_total{reason="cert_mismatch"}' 1 ||
	cl_die "cert mismatch not counted"
# Plain TCP to the TLS port is not a sensor either.
out=$(cl_client abuse "$addr" garbage --wait 8)
[[ $(cl_json closed <<<"$out") == true ]] || cl_die "plaintext on the TLS port not closed: $out"

# A CN-only certificate is its CN.
out=$(cl_client send "$addr" --tls "${CL_TLS_B[@]}" --sensor sensor-b --run 00000000000000b1 \
	--alerts 3 --timeout 20) || cl_die "sensor-b (CN only) was not served: $out"

wait "$good"
rc=$?
out=$(cat "$CL_TMP/good.json")
[[ $rc -eq 0 && $(cl_json acked <<<"$out") == 40 ]] ||
	cl_die "the good sensor was disturbed: rc=$rc $out"
[[ $(cl_metric 'relaywatch_collector_frames_stored_total{type="alert"}') == 43 ]] ||
	cl_die "stored alerts: $(cl_metric 'relaywatch_collector_frames_stored_total{type="alert"}'), want 43"
hosts=$(curl -sf "http://127.0.0.1:$CL_HTTP/api/sensors") || cl_die "/api/sensors"
grep -q '"peer":"/CN=sensor-a' <<<"$hosts" || cl_die "sensor-a's certificate subject not recorded"
cl_log "PASS: 9 hostile connections closed and counted, 43 alerts from 2 sensors stored"
