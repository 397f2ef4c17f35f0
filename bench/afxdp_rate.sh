#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# afxdp_rate.sh: how fast the XDP pre-filter + AF_XDP source + workers take SMTP frames on a
# veth pair (copy mode; veth has no zero-copy), measured, never asserted. Two namespaces of
# our own, a veth between them, relaywatch --afxdp on one end and tcpreplay --topspeed of a
# capture into the other, LOOPS times. Prints what was sent, what the sensor's workers got,
# and every place a frame was lost (veth, AF_XDP ring, fill ring). Root; exit 77 otherwise.
#
# usage: bench/afxdp_rate.sh RELAYWATCH [LOOPS] [PCAP] [-- SENSOR-ARGS...]
set -euo pipefail

bin=${1:?usage: $0 RELAYWATCH [LOOPS] [PCAP] [-- SENSOR-ARGS...]}
shift
loops=2000
pcap="$(cd "$(dirname "$0")/.." && pwd)/tests/corpus/captures/zeek/testing/btest/Traces/smtp.pcap"
[[ $# -gt 0 && $1 != -- ]] && { loops=$1; shift; }
[[ $# -gt 0 && $1 != -- ]] && { pcap=$1; shift; }
[[ ${1:-} == -- ]] && shift
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root" >&2; exit 77; }
command -v tcpreplay >/dev/null || { echo "SKIP: no tcpreplay" >&2; exit 77; }

id="rwb-$$"
tmp=$(mktemp -d "/tmp/$id.XXXXXX")
pid=""
cleanup()
{
	[[ -z $pid ]] || { kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
	ip netns del "$id-a" 2>/dev/null || true
	ip netns del "$id-s" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$id-a"
ip netns add "$id-s"
ip link add va netns "$id-a" type veth peer name vs netns "$id-s"
ip -n "$id-a" link set va up
ip -n "$id-s" link set vs up

ip netns exec "$id-s" "$bin" --afxdp vs -l "$tmp/log" -v --report none "$@" >"$tmp/sensor.log" 2>&1 &
pid=$!
for ((i = 0; i < 600; i++)); do
	grep -q "capturing: " "$tmp/sensor.log" && break
	kill -0 "$pid" 2>/dev/null || { cat "$tmp/sensor.log" >&2; exit 1; }
	sleep 0.1
done
grep -q "capturing: " "$tmp/sensor.log" || { echo "sensor did not start" >&2; exit 1; }

ip netns exec "$id-a" tcpreplay -t --loop="$loops" -i va "$pcap" >"$tmp/tcpreplay.log" 2>&1
sleep 1
kill -INT "$pid"
wait "$pid" || true
pid=""

py()
{
	python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$tmp/log/stats.json" "$1"
}
secs=$(sed -n 's/.*packets ([0-9]* bytes) sent in \([0-9.]*\) seconds.*/\1/p' "$tmp/tcpreplay.log")
sent=$(sed -n 's/.*Actual: \([0-9]*\) packets.*/\1/p' "$tmp/tcpreplay.log")
vdrop=$(ip -n "$id-a" -s link show va | awk '/TX:/{getline; print $4}')
grep -o "capturing: .*" "$tmp/sensor.log"
echo "sent          $sent frames in $secs s ($(python3 -c "print(round($sent/$secs))") frames/s), veth tx drops $vdrop"
echo "XDP           redirected $(py 'v["xdp"]["redirected"]'), passed $(py 'v["xdp"]["not_smtp"]+v["xdp"]["not_tcp"]+v["xdp"]["not_ip"]')"
echo "workers got   $(py 'v["packets"]') SMTP frames ($(python3 -c "print(round($(py 'v["packets"]')/$secs))") frames/s over the send time)"
echo "lost          nic/xsk $(py 'v["src_nic_missed"]'), rx ring full $(py 'v["src_ring_full"]'), fill empty $(py 'v["src_fill_empty"]'), steer $(py 'v["src_steer_full"]')"
