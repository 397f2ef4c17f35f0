#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A real Prometheus (Debian's) scrapes the collector's /metrics: the target is
# up, the series parse, and the values read back through Prometheus's HTTP API
# match what was sent; promtool's linter accepts the exposition.
#
# usage: collector_prometheus.sh RELAYWATCH_COLLECTOR
set -uo pipefail
. "$(dirname "$0")/collector_lib.sh"
cl_init "${1:-}" prometheus promtool

cl_start --db "sqlite:$CL_TMP/c.db" --plaintext
cl_client send "127.0.0.1:$CL_PORT" --sensor tap-p --alerts 5 --summaries 2 --txs 3 \
	>/dev/null || cl_die "frames not acked"

curl -sf "http://127.0.0.1:$CL_HTTP/metrics" >"$CL_TMP/metrics.txt" || cl_die "/metrics"
promtool check metrics <"$CL_TMP/metrics.txt" >"$CL_TMP/promtool.txt" 2>&1 ||
	cl_die "promtool check metrics: $(cat "$CL_TMP/promtool.txt")"

port=$(cl_free_port)
cat >"$CL_TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: relaywatch-collector
    static_configs:
      - targets: ['127.0.0.1:$CL_HTTP']
EOF
cl_bg "$CL_TMP/prometheus.log" prometheus --config.file="$CL_TMP/prometheus.yml" \
	--storage.tsdb.path="$CL_TMP/tsdb" --web.listen-address="127.0.0.1:$port"
cl_wait 300 curl -sf "http://127.0.0.1:$port/-/ready" || cl_die "prometheus did not start"

# query EXPR: the first result's value, or nothing.
query()
{
	curl -sf --get "http://127.0.0.1:$port/api/v1/query" --data-urlencode "query=$1" |
		"$CL_PY" -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'
}

is()	# EXPR VALUE
{
	[[ $(query "$1") == "$2" ]]
}

cl_wait 300 is 'up{job="relaywatch-collector"}' 1 || cl_die "target not up"
cl_wait 100 is 'relaywatch_collector_frames_total{type="alert"}' 5 ||
	cl_die "frames_total{type=alert} = '$(query 'relaywatch_collector_frames_total{type="alert"}')'"
is 'relaywatch_collector_frames_stored_total{type="transaction"}' 3 || cl_die "stored transactions"
is 'relaywatch_collector_connections_accepted_total' 1 || cl_die "connections accepted"
is 'relaywatch_collector_store_commit_seconds_count > 0' "$(query relaywatch_collector_store_commit_seconds_count)" ||
	cl_die "no store latency histogram"
[[ -n $(query 'histogram_quantile(0.5, relaywatch_collector_ack_latency_seconds_bucket)') ]] ||
	cl_die "ack latency histogram not usable"
[[ $(query 'count(relaywatch_collector_top_host_score)') -ge 1 ]] || cl_die "no ranking gauge"
[[ $(query 'count(relaywatch_collector_top_host_score)') -le 10 ]] || cl_die "ranking gauge unbounded"
is 'relaywatch_collector_top_host_score{rank="1"}' 18 || cl_die "top score: $(query 'relaywatch_collector_top_host_score{rank="1"}')"
cl_log "PASS: scraped by Prometheus, values read back through its API"
