#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Two sensors, one collector, over mutual TLS on 127.0.0.1. Sensor a reads
# blocklisted.pcap (its home net is the client's: a Spamhaus refusal), sensor b
# reads open-relay.pcap (its home net is the relay's and example.net is its own
# domain: a foreign client sends as example.net), both with --archive, b with
# pseudonyms on. Each `relaywatch -r` exits 0 once the collector acknowledged
# everything. The collector's report ranks 192.0.2.10 with both kinds and both
# sensors named; its alerts are exactly the lines of both alerts.json, each once;
# the SensorHellos are stored; the archive has both transactions, b's mailboxes
# pseudonymised (by b's workers: its smtp.json and alerts.json name none either),
# and no message body anywhere in the store.
#
# usage: system_two_sensors.sh RELAYWATCH_COLLECTOR RELAYWATCH
set -uo pipefail
. "$(dirname "$0")/system_lib.sh"
sys_init "${1:-}" "${2:-}"

DB=$CL_TMP/c.db
cl_start --db "sqlite:$DB" "${CL_TLS_SERVER[@]}"
mkdir -p "$CL_TMP/a" "$CL_TMP/b"
head -c 32 /dev/urandom >"$CL_TMP/b/key"
chmod 600 "$CL_TMP/b/key"
cat >"$CL_TMP/b/relaywatch.yaml" <<EOF
home_net: [198.51.100.0/24]
home_domains: [example.net]
privacy: {pseudonymize: true, key_file: $CL_TMP/b/key}
EOF

# Both at once, as two taps would.
# shellcheck disable=SC2046 # sys_tls gives several words on purpose
cl_bg "$CL_TMP/a/err" "$SYS_RW" -r "$SYS_CAPS/blocklisted.pcap" --home-net 192.0.2.0/24 \
	-l "$CL_TMP/a" --report none --archive --collector "127.0.0.1:$CL_PORT" \
	$(sys_tls sensor-a) --sensor-id sensor-a
pid_a=$CL_BG_PID
# shellcheck disable=SC2046
sys_sensor "$CL_TMP/b/err" -c "$CL_TMP/b/relaywatch.yaml" -r "$SYS_CAPS/open-relay.pcap" \
	-l "$CL_TMP/b" --report none --archive --collector "127.0.0.1:$CL_PORT" \
	$(sys_tls sensor-b) --sensor-id sensor-b || cl_die "sensor b: exit $? ($(tail -n 3 "$CL_TMP/b/err"))"
wait "$pid_a" || cl_die "sensor a: exit $? ($(tail -n 3 "$CL_TMP/a/err"))"
for s in a b; do
	[[ $(sys_count "$CL_TMP/$s/err" left) == 0 && $(sys_count "$CL_TMP/$s/err" acked) -gt 0 ]] ||
		cl_die "sensor $s: not everything acknowledged: $(grep 'collector ' "$CL_TMP/$s/err")"
	[[ -s $CL_TMP/$s/alerts.json ]] || cl_die "sensor $s wrote no alert: the test proves nothing"
done

# Every alert of both sensors, each exactly once.
out=$(sys_check alerts "$DB" sensor-a="$CL_TMP/a/alerts.json" sensor-b="$CL_TMP/b/alerts.json") ||
	cl_die "alerts in the store: $out"
cl_log "store: $out, as in both alerts.json"

# The report ranks the relay host, with the evidence of both sensors.
"$CL_BIN" report --db "sqlite:$DB" --format json >"$CL_TMP/report.json" ||
	cl_die "report --format json failed"
"$CL_PY" - "$CL_TMP/report.json" <<'EOF' || cl_die "report: $(head -c 600 "$CL_TMP/report.json")"
import json, sys
r = json.load(open(sys.argv[1]))
ranked = [h["host"] for h in r["hosts"]]
assert ranked == ["192.0.2.10"], f"ranked {ranked}, want 192.0.2.10 only"
h = r["hosts"][0]
assert h["rank"] == 1 and h["score"] >= r["min_score"], h
assert sorted(h["sensors"]) == ["sensor-a", "sensor-b"], h["sensors"]
kinds = {k["kind"]: k["sensor"] for k in h["kinds"]}
assert kinds == {"blocklisted": "sensor-a", "spoofed_home_domain": "sensor-b"}, kinds
assert h["alerts"] == 2, h["alerts"]
EOF
cl_log "report: 192.0.2.10 ranked first, blocklisted (sensor-a) and spoofed_home_domain (sensor-b)"

# The HostSummary frames carry the detector's totals, not zeros (issue 5).
bl=$(sys_sql "$DB" "SELECT MAX(blocklist_replies) FROM summaries
	WHERE sensor_id = 'sensor-a' AND host = '192.0.2.10'")
[[ ${bl:-0} =~ ^[0-9]+$ && ${bl:-0} -ge 1 ]] ||
	cl_die "sensor-a's host summaries of 192.0.2.10: blocklist_replies '${bl}', want >= 1"
cl_log "summaries: 192.0.2.10 has blocklist_replies $bl from sensor-a"

# The SensorHellos: version, a SHA-256 config digest each (different configurations).
hello=$(sys_sql "$DB" "SELECT sensor_id || ' ' || version || ' ' || config_digest || ' ' ||
	home_net FROM sensors ORDER BY sensor_id")
version=$("$SYS_RW" --version 2>&1 | grep -o '[0-9][0-9.]*' | head -n 1)
[[ $(grep -cE "^sensor-[ab] $version [0-9a-f]{64} " <<<"$hello") == 2 ]] ||
	cl_die "SensorHellos stored: $hello (version $version)"
[[ $(awk '{print $3}' <<<"$hello" | sort -u | wc -l) == 2 ]] ||
	cl_die "two configurations, one digest: $hello"
grep -q '^sensor-a .* 192.0.2.0/24$' <<<"$hello" || cl_die "sensor-a's home_net: $hello"

# The archive: one transaction per sensor; b's mailboxes are pseudonyms; no body.
tx=$(sys_sql "$DB" "SELECT sensor_id || '|' || client || '|' || mailfrom || '|' || rcpt_text
	FROM transactions ORDER BY sensor_id")
[[ $(wc -l <<<"$tx") == 2 ]] || cl_die "archive: $tx"
grep -q '^sensor-a|192.0.2.10|' <<<"$tx" || cl_die "sensor-a's transaction: $tx"
grep -qE '^sensor-b\|192.0.2.10\|u-[0-9a-f]{16}@example.net\|' <<<"$tx" ||
	cl_die "sensor-b's transaction is not pseudonymised: $tx"
if sys_sql "$DB" "SELECT * FROM transactions WHERE sensor_id = 'sensor-b'" | grep -qE 'spammer|victim'; then
	cl_die "sensor-b's clear mailboxes reached the archive"
fi
# The worker made those pseudonyms: b's own JSON logs and alerts hold no clear mailbox either.
if grep -qE 'spammer|victim' "$CL_TMP/b/smtp.json" "$CL_TMP/b/alerts.json"; then
	cl_die "sensor-b's smtp.json or alerts.json names a clear mailbox"
fi
grep -qE '"mailfrom":"u-[0-9a-f]{16}@example.net"' "$CL_TMP/b/smtp.json" ||
	cl_die "sensor-b's smtp.json has no pseudonymised mailfrom: $(head -c 400 "$CL_TMP/b/smtp.json")"
out=$("$CL_BIN" search --db "sqlite:$DB" --host 192.0.2.10 --format json) || cl_die "search failed"
[[ $(grep -o '"uid"' <<<"$out" | wc -l) == 2 ]] || cl_die "search --host 192.0.2.10: $out"
sqlite3 "$DB" 'PRAGMA wal_checkpoint' >/dev/null
if grep -qa 'test message of the relaywatch lab' "$DB"*; then
	cl_die "a message body reached the collector's store"
fi
cl_log "PASS: 2 sensors, $(sys_sql "$DB" 'SELECT COUNT(*) FROM alerts') alerts once each, report and archive as expected"
