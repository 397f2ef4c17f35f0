#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Privacy: passwords never leave the parser, and pseudonyms keep detection working.
#
#  1. Every capture of tests/captures (AUTH PLAIN and LOGIN, right and wrong passwords,
#     CRAM-MD5, STARTTLS...) through the sensor with -v, -l DIR, --report json and
#     --collector to a real relaywatch-collector (plaintext on 127.0.0.1, SQLite, --archive
#     so transaction metadata is stored too). Then every output -- smtp.json, alerts.json,
#     stats.json, the report, stdout, stderr, the collector's log, its database and its own
#     report -- is searched for the passwords (all start with 'Tr0ub4dor&3-'): in clear,
#     JSON-escaped, hex and base64 at every alignment (scan_secrets.py). The scanner is
#     first shown to find them in the captures themselves, so a silent scanner fails.
#  2. privacy.pseudonymize with a key file: alice logs in from 6 addresses (one capture,
#     copied with other client addresses), three runs exporting to the collector. Two
#     runs sharing the key store the same pseudonyms, byte for byte, in the collector's
#     transactions, where 'alice' appears nowhere; a third run with another key gives
#     others; the compromised_account alert still fires and names the pseudonym. Neither
#     smtp.json, alerts.json nor the report of those runs holds a clear local part or
#     user name. A fourth run adds privacy.pseudonymize_ips: no client or server address
#     of the capture is left in its outputs either, and the alert still fires.
#
# usage: privacy.sh RELAYWATCH [RELAYWATCH_COLLECTOR]
set -uo pipefail

rw=${1:?usage: privacy.sh RELAYWATCH [RELAYWATCH_COLLECTOR]}
coll=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
caps="$here/../captures"
scan="$here/scan_secrets.py"
PW='Tr0ub4dor&3-'

command -v python3 >/dev/null || { echo "SKIP: needs python3"; exit 77; }
T=$(mktemp -d /tmp/relaywatch-privacy.XXXXXX)
cpid=""
cleanup() {
	[ -n "$cpid" ] && kill "$cpid" 2>/dev/null && wait "$cpid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
failed=0
fail() {
	echo "FAIL $*"
	failed=$((failed + 1))
}

# Small tables (fast start); the home network of the lab captures.
cat >"$T/base.yaml" <<'EOF'
home_net: [198.51.100.0/24, 2001:db8:2::/64, 203.0.113.0/24]
home_domains: [example.org, example.com]
limits:
  flows_per_worker: 4096
  reasm_bytes_per_worker: 4MiB
  smtp_sessions_per_worker: 1024
  hosts: 1024
  accounts: 1024
EOF

# ---- 1. no password in any output ----
python3 "$scan" "$PW" "$caps/auth-plain-success.pcap" "$caps/auth-login-success.pcap" \
	>"$T/selftest" && fail "scan_secrets.py finds no password in the captures that carry them"
grep -q 'base64' "$T/selftest" || fail "scan_secrets.py missed the base64 passwords: $(tail -1 "$T/selftest")"

coll_args=()
if [ -n "$coll" ] && [ -x "$coll" ]; then
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	mkdir -p "$T/collector"
	"$coll" serve --listen "127.0.0.1:$port" --db "sqlite:$T/collector/store.db" --plaintext \
		--http none >"$T/collector/log" 2>&1 &
	cpid=$!
	for _ in $(seq 100); do
		python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 1)" \
			2>/dev/null && break
		sleep 0.1
	done
	coll_args=(--collector "127.0.0.1:$port" --collector-plaintext --archive)
else
	echo "note: no relaywatch-collector given: outputs of the sensor only"
fi

n=0
for c in "$caps"/*.pcap; do
	out="$T/out/$(basename "$c" .pcap)"
	mkdir -p "$out"
	timeout 120 "$rw" -v -c "$T/base.yaml" -r "$c" -l "$out" --report json "${coll_args[@]}" \
		>"$out/report.json" 2>"$out/stderr" || fail "$(basename "$c"): exit $?: $(tail -3 "$out/stderr")"
	n=$((n + 1))
done
grep -q '"auth_user":"alice@example.com"' "$T/out/auth-plain-success/smtp.json" ||
	fail "the AUTH PLAIN user is not in smtp.json (is AUTH parsed at all?)"
grep -q '"auth_user":"carol@example.com"' "$T/out/auth-login-success/smtp.json" ||
	fail "the AUTH LOGIN user is not in smtp.json"
echo "$n captures through the sensor"
python3 "$scan" "$PW" "$T/out" || failed=$((failed + 1))

# ---- 2. pseudonyms: same key, same pseudonyms; detection still fires ----
head -c 32 /dev/urandom >"$T/k1"
head -c 32 /dev/urandom >"$T/k2"
chmod 600 "$T/k1" "$T/k2"
python3 "$scan" --rewrite-clients "$caps/auth-plain-success.pcap" "$T/six.pcap" 192.0.2.10 6
for k in k1 k2 k1ips; do
	cp "$T/base.yaml" "$T/$k.yaml"
	printf 'privacy:\n  pseudonymize: true\n  key_file: %s\ncapture:\n  checksums: false\n' \
		"$T/${k%ips}" >>"$T/$k.yaml"
	printf 'detectors:\n  compromised_account:\n    min_sources: 3\n' >>"$T/$k.yaml"
done
sed -i 's/^  pseudonymize: true$/&\n  pseudonymize_ips: true/' "$T/k1ips.yaml"
for run in a:k1 b:k1 c:k2 d:k1ips; do
	d="$T/ps-${run%%:*}"
	mkdir -p "$d"
	timeout 120 "$rw" -q --report json -c "$T/${run#*:}.yaml" -r "$T/six.pcap" -l "$d" \
		"${coll_args[@]}" ${coll_args[0]:+--sensor-id "ps-${run%%:*}"} >"$d/report.json" \
		2>"$d/stderr" || fail "pseudonymised run ${run%%:*}: $(tail -3 "$d/stderr")"
done
if [ -n "$cpid" ]; then
	kill "$cpid"
	wait "$cpid"
	cpid=""
	"$coll" report --db "sqlite:$T/collector/store.db" --format json >"$T/collector/report.json" \
		2>>"$T/collector/log" || fail "collector report: $(tail -3 "$T/collector/log")"
	[ -s "$T/collector/store.db" ] || fail "the collector stored nothing"
	python3 - "$T/collector/store.db" <<'EOF' || fail "the collector has no transaction from the sensors"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = sum(db.execute("select count(*) from " + t).fetchone()[0]
           for (t,) in db.execute("select name from sqlite_master where type='table'"))
print("collector database: %d rows" % rows)
sys.exit(0 if rows > 0 else 1)
EOF
fi
# The collector is what privacy.pseudonymize applies to (exporters/export_pb.c).
[ -f "$T/collector/store.db" ] && python3 - "$T/collector/store.db" <<'EOF' || failed=$((failed + 1))
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
ok = True
def check(cond, what):
    global ok
    print("%s %s" % ("ok  " if cond else "FAIL", what))
    ok &= bool(cond)
def col(sql, run):
    return sorted({r[0] for r in db.execute(sql, ("ps-" + run,))})
users = {r: col("select auth_user from transactions where sensor_id = ?", r) for r in "abc"}
froms = {r: col("select mailfrom from transactions where sensor_id = ?", r) for r in "abc"}
accts = {r: col("select account from alerts where sensor_id = ? and kind like "
                "'%compromised%'", r) for r in "abc"}
check(len(users["a"]) == 1 and users["a"][0].startswith("u-")
      and users["a"][0].endswith("@example.com"), "auth_user pseudonymised: %s" % users["a"])
check(users["a"] == users["b"] and froms["a"] == froms["b"],
      "same key, same pseudonyms: %s %s" % (users["b"], froms["b"]))
check(users["a"] != users["c"] and froms["a"] != froms["c"],
      "another key, other pseudonyms: %s %s" % (users["c"], froms["c"]))
check(accts["a"] and accts["a"] == accts["b"],
      "compromised_account fires, the same account in both runs: %s %s" % (accts["a"], accts["b"]))
leak = [r for r in db.execute("select * from transactions where sensor_id like 'ps-%'")
        if "alice" in repr(r)]
check(not leak, "no 'alice' in the pseudonymised runs' transactions%s"
      % (": %r" % (leak[0],) if leak else ""))
# The workers pseudonymise before the detector: the alert names the same pseudonym.
check(accts["a"] == users["a"],
      "the compromised_account alert names the pseudonym: %s %s" % (accts["a"], users["a"]))
sys.exit(0 if ok else 1)
EOF
# The sensor's own outputs: smtp.json, alerts.json and the report of every pseudonymised
# run hold no clear local part or user name, and the alert names the smtp.json pseudonym;
# run d (pseudonymize_ips too) names none of the capture's addresses.
python3 - "$T" <<'EOF' || failed=$((failed + 1))
import json, re, sys
T = sys.argv[1]
ok = True
def check(cond, what):
    global ok
    print("%s %s" % ("ok  " if cond else "FAIL", what))
    ok &= bool(cond)
def read(run, name):
    with open("%s/ps-%s/%s" % (T, run, name), encoding="utf-8", errors="replace") as f:
        return f.read()
def jsonl(text):
    return [json.loads(l) for l in text.splitlines() if l.strip()]
users = {}
for run in "abcd":
    outs = {n: read(run, n) for n in ("smtp.json", "alerts.json", "report.json")}
    txs, alerts = jsonl(outs["smtp.json"]), jsonl(outs["alerts.json"])
    report = json.loads(outs["report.json"])
    users[run] = sorted({t.get("auth_user", "") for t in txs} - {""})
    for name, text in outs.items():
        clear = sorted(set(re.findall(r"(?i)\b(?:alice|bob|carol)\b[^\"]{0,20}", text)))
        check(not clear, "run %s %s: no clear local part or user %s" % (run, name, clear[:3]))
    check(len(users[run]) == 1 and users[run][0].startswith("u-"),
          "run %s smtp.json: auth_user is a pseudonym %s" % (run, users[run]))
    acct = sorted({a.get("account", "") for a in alerts if a["kind"] == "compromised_account"})
    check(acct == users[run], "run %s alerts.json: compromised_account fires for %s (%s)"
          % (run, users[run], acct))
    listed = sorted({a.get("account", "") for a in report.get("accounts", [])})
    check(bool(users[run]) and users[run][0] in listed,
          "run %s report: the account is listed by its pseudonym %s" % (run, listed))
check(users["a"] == users["b"] == users["d"] and users["a"] != users["c"],
      "one key, one pseudonym in every output; another key, another: %s" % users)
d = "".join(read("d", n) for n in ("smtp.json", "alerts.json", "report.json"))
clear_ips = sorted(set(re.findall(r"\b(?:192\.0\.2|198\.51\.100|203\.0\.113)\.\d+\b", d)))
check(not clear_ips, "run d (pseudonymize_ips): no clear address in the outputs %s" % clear_ips)
hosts = sorted({t["id.orig_h"] for t in jsonl(read("d", "smtp.json"))})
check(len(hosts) == 6 and all(int(h.split(".")[0]) >= 240 for h in hosts),
      "run d: six clients, each a pseudonym in 240.0.0.0/4: %s" % hosts)
sys.exit(0 if ok else 1)
EOF
python3 "$scan" "$PW" "$T"/ps-* "$T/collector" || failed=$((failed + 1))

echo "privacy: $failed failed"
[ "$failed" -eq 0 ]
