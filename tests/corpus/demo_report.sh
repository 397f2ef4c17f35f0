#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# demo_report.sh: the README's quick start on the committed demo capture. Runs exactly
#
#	relaywatch -r demo/relay-demo.pcap --home-net 198.51.100.0/24,203.0.113.0/24
#
# from the source root and checks the relay report's table on stdout: every host the demo
# was made to show (demo/make-demo.sh, tests/e2e/scenarios.sh --demo) is named with its kind,
# the stolen account is named, and the hosts that only sent ordinary mail carry no kind.
#
# usage: demo_report.sh RELAYWATCH [PCAP]	(PCAP: default demo/relay-demo.pcap)
set -euo pipefail

rw=${1:?usage: demo_report.sh RELAYWATCH [PCAP]}
rw=$(cd "$(dirname "$rw")" && pwd)/$(basename "$rw")
root=$(cd "$(dirname "$0")/../.." && pwd)
pcap=${2:-demo/relay-demo.pcap}
out=$(mktemp -d /tmp/rw-demo.XXXXXX)
trap 'rm -rf "$out"' EXIT

cd "$root"
[[ -r $pcap ]] || { echo "demo_report: no capture $pcap" >&2; exit 1; }
"$rw" -r "$pcap" --home-net 198.51.100.0/24,203.0.113.0/24 >"$out/report.txt" 2>"$out/stderr.txt" ||
	{ echo "demo_report: relaywatch failed: $(tail -5 "$out/stderr.txt")" >&2; exit 1; }
cat "$out/report.txt"

python3 - "$out/report.txt" <<'EOF'
import re
import sys

# host -> the one kind it must show; "" = ordinary mail only, no kind.
WANT = {
    "198.51.100.30": "open_relay",           # open relay passing a stranger's spam on
    "192.0.2.14": "auth_bruteforce",         # password guessing at the submission server
    "198.51.100.20": "compromised_account",  # submission server: erin's stolen password
    "198.51.100.66": "direct_mx_bot",        # infected PC mailing foreign MXs directly
    "198.51.100.68": "blocklisted",          # refused by a foreign MX: zen.spamhaus.org
    "192.0.2.33": "recipient_harvest",       # guessing mailbox names at the MX
    "192.0.2.37": "content_signature",       # advance-fee spam to the MX
    "192.0.2.36": "", "192.0.2.16": "", "192.0.2.27": "", "198.51.100.61": "",
    "198.51.100.67": "", "198.51.100.69": "", "198.51.100.80": "", "192.0.2.34": "",
    "192.0.2.38": "", "198.51.100.25": "",
}
text = open(sys.argv[1], encoding="utf-8").read()
hosts, accounts = {}, {}
section = "hosts"
row = re.compile(r"^\s*(\d+)\s+(\S+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(.*)$")
for line in text.splitlines():
    if line == "accounts":
        section = "accounts"
        continue
    if section == "accounts":
        cols = line.split()
        if len(cols) > 2 and cols[0].isdigit():
            accounts[cols[2]] = line
        continue
    m = row.match(line)
    if m:
        # the kinds are the last column, after the two times (date and clock each)
        cols = m.group(5).split()
        kinds = set(cols[6].split(",")) if len(cols) > 6 else set()
        hosts[m.group(2)] = kinds
bad = []
for host, kind in WANT.items():
    got = hosts.get(host, set())
    if kind and got != {kind}:
        bad.append("%s: want exactly %s, report says %s" % (host, kind, sorted(got) or "nothing"))
    if not kind and got:
        bad.append("%s sent ordinary mail only, report says %s" % (host, sorted(got)))
extra = {h: k for h, k in hosts.items() if k and h not in WANT}
if extra:
    bad.append("kinds the demo did not foresee: %s" % extra)
acct = accounts.get("erin@example.org", "")
if "compromised_account" not in acct or "198.51.100.20" not in acct:
    bad.append("account erin@example.org not reported compromised on 198.51.100.20")
if not re.search(r"^relaywatch relay report: \d+ host\(s\)", text, re.M):
    bad.append("no report heading")
for b in bad:
    print("demo_report: FAIL " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
echo "demo_report: PASS" >&2
