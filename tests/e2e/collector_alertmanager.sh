#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A real Alertmanager (Debian's prometheus-alertmanager) receives the
# collector's alerts: labels alertname/kind/host/severity/sensor(/account),
# the evidence in the annotations, generatorURL to the host's page; the alert
# is re-sent while active and resolved (endsAt) once the host goes quiet.
# Alertmanager being down costs counted failures, never ingest.
#
# usage: collector_alertmanager.sh RELAYWATCH_COLLECTOR
set -uo pipefail
. "$(dirname "$0")/collector_lib.sh"
cl_init "${1:-}" prometheus-alertmanager

am=$(cl_free_port)
cat >"$CL_TMP/am.yml" <<EOF
route:
  receiver: sink
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: sink
EOF

# Alertmanager is not up yet: the collector must still ingest and ack.
cl_start --db "sqlite:$CL_TMP/c.db" --plaintext --alertmanager "http://127.0.0.1:$am" \
	--resend-interval 1 --quiet-after 6
cl_client send "127.0.0.1:$CL_PORT" --sensor tap-m --host 192.0.2.77 --alerts 1 \
	--account mallory >/dev/null || cl_die "ingest waited on a missing Alertmanager"
cl_wait 100 cl_metric_ge relaywatch_collector_alertmanager_failures_total 1 ||
	cl_die "a failed POST was not counted"

cl_bg "$CL_TMP/am.log" prometheus-alertmanager --config.file="$CL_TMP/am.yml" \
	--storage.path="$CL_TMP/am-data" --web.listen-address="127.0.0.1:$am" \
	--cluster.listen-address=
cl_wait 300 curl -sf "http://127.0.0.1:$am/-/ready" || cl_die "alertmanager did not start"

alerts()
{
	curl -sf "http://127.0.0.1:$am/api/v2/alerts?filter=host%3D%22192.0.2.77%22"
}

firing()
{
	alerts | "$CL_PY" -c '
import json, sys
a = [x for x in json.load(sys.stdin) if x["status"]["state"] == "active"]
sys.exit(0 if a else 1)'
}

# The host keeps relaying (an alert update every 0.3 s) until we stop it.
cl_client_bg "$CL_TMP/keepalive.json" send "127.0.0.1:$CL_PORT" --sensor tap-m \
	--host 192.0.2.77 --alerts 300 --account mallory --first-seq 2 --pace 0.3 --timeout 5
keepalive=$CL_BG_PID
# The collector retries the failed POST (back-off up to a minute) and re-sends anyway.
cl_wait 900 firing || cl_die "the alert never reached Alertmanager"
alerts >"$CL_TMP/alerts.json"
"$CL_PY" - "$CL_TMP/alerts.json" "$CL_HTTP" <<'EOF' || cl_die "alert content: $(cat "$CL_TMP/alerts.json")"
import json, sys
a = json.load(open(sys.argv[1]))[0]
l = a["labels"]
want = {"alertname": "RelaywatchOpenRelay", "kind": "open_relay", "host": "192.0.2.77",
        "severity": "critical", "sensor": "tap-m", "account": "mallory"}
assert all(l.get(k) == v for k, v in want.items()), l
assert "relayed mail" in a["annotations"]["summary"], a["annotations"]
assert "relayed_rcpts=12" in a["annotations"]["description"], a["annotations"]
assert a["generatorURL"] == "http://127.0.0.1:%s/api/hosts/192.0.2.77" % sys.argv[2], a
EOF
# The generator URL answers with the host's evidence.
curl -sf "$("$CL_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["generatorURL"])' \
	"$CL_TMP/alerts.json")" | grep -q '"kind":"open_relay"' || cl_die "generatorURL does not answer"

sent=$(cl_metric relaywatch_collector_alertmanager_alerts_sent_total)
cl_wait 50 cl_metric_ge relaywatch_collector_alertmanager_alerts_sent_total $((sent + 1)) ||
	cl_die "no re-send while active"
# Quiet for 6 s: resolved, Alertmanager no longer lists it as firing.
cl_stop "$keepalive"
cl_wait 300 eval '! firing' || cl_die "the alert was not resolved after the host went quiet"
[[ $(cl_metric relaywatch_collector_alertmanager_active_alerts) == 0 ]] ||
	cl_die "the collector still holds the alert"
cl_log "PASS: delivered after an outage, re-sent while active, resolved when quiet"
