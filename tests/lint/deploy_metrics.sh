#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The metrics the operator files rely on are the ones the programs serve: a
# real sensor reads a capture and sends to a real collector (127.0.0.1, plain
# TCP), both /metrics are scraped, `promtool check metrics` lints both
# expositions, and every metric and label value the alert rules and the
# Grafana dashboard select must be in them (tests/lint/deploy_check.py names).
#
# usage: deploy_metrics.sh SRC_ROOT RELAYWATCH RELAYWATCH_COLLECTOR
# Exit 77 (SKIP) without promtool, curl or python3-yaml.
set -uo pipefail
src=$1 sensor=$2 collector=$3
py=$(command -v /usr/bin/python3 || command -v python3)
for t in promtool curl "$py"; do
	command -v "$t" >/dev/null 2>&1 || { echo "SKIP: no $t"; exit 77; }
done
[[ -x $collector ]] || { echo "SKIP: no collector binary"; exit 77; }

tmp=$(mktemp -d /tmp/rw-deploy-metrics.XXXXXX)
pids=()
cleanup()
{
	local p
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

fail()
{
	echo "FAIL: $*"
	for f in "$tmp"/*.log; do
		[[ -f $f ]] && { echo "--- $f"; tail -n 20 "$f"; }
	done
	exit 1
}

# port LOG REGEX: the first number after REGEX in LOG, waiting up to 30 s (busy CI).
port()
{
	local i p
	for ((i = 0; i < 300; i++)); do
		p=$(grep -o "$2 [0-9]*" "$1" 2>/dev/null | head -n 1 | grep -o '[0-9]*$')
		[[ -n $p ]] && { echo "$p"; return 0; }
		sleep 0.1
	done
	return 1
}

"$collector" serve --listen 127.0.0.1:0 --http 127.0.0.1:0 --db "sqlite:$tmp/c.db" \
	--plaintext >"$tmp/collector.log" 2>&1 &
pids+=($!)
cport=$(port "$tmp/collector.log" "sensors on port") || fail "collector did not start"
chttp=$(port "$tmp/collector.log" "HTTP on port") || fail "collector HTTP did not start"

# The open relay capture raises an alert: the alert families have samples.
"$sensor" -r "$src/tests/captures/open-relay.pcap" --home-net 198.51.100.0/24 \
	--collector "127.0.0.1:$cport" --collector-plaintext --sensor-id lint \
	-l "$tmp/out" --metrics 127.0.0.1:0 --metrics-linger 120 --report none >"$tmp/sensor.log" 2>&1 &
pids+=($!)
sport=$(port "$tmp/sensor.log" "/metrics on port") || fail "sensor /metrics did not start"
# Scrape once the run is over (final counts), bounded (60 s).
for ((i = 0; i < 600; i++)); do
	curl -sf "http://127.0.0.1:$sport/metrics" >"$tmp/sensor.prom" || fail "sensor scrape"
	grep -q '^relaywatch_capture_finished 1$' "$tmp/sensor.prom" && break
	sleep 0.1
done
grep -q '^relaywatch_capture_finished 1$' "$tmp/sensor.prom" || fail "the sensor run did not end"
curl -sf "http://127.0.0.1:$chttp/metrics" >"$tmp/collector.prom" || fail "collector scrape"

for f in sensor collector; do
	promtool check metrics <"$tmp/$f.prom" >"$tmp/promtool-$f.log" 2>&1 ||
		fail "promtool check metrics ($f): $(cat "$tmp/promtool-$f.log")"
done
# Sanity: these are real, populated expositions.
grep -q '^relaywatch_packets_total{worker="0"} [1-9]' "$tmp/sensor.prom" || fail "no packets"
grep -q '^relaywatch_export_frames_acked_total [1-9]' "$tmp/sensor.prom" ||
	fail "the collector acknowledged nothing"

"$py" "$src/tests/lint/deploy_check.py" names "$src/deploy/prometheus/relaywatch-rules.yml" \
	"$src/deploy/grafana/relaywatch.json" "$tmp/sensor.prom" "$tmp/collector.prom"
