#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# make-demo.sh: make demo/relay-demo.pcap, the quick start's capture, from real traffic. The
# lab of the detector tests (tests/e2e/scenlib.sh) runs in network namespaces: real postfix
# instances (a submission server with SMTP AUTH, an MX, an open relay, foreign MXs, one of
# them refusing clients on a DNS blocklist) and real clients (swaks, python3 smtplib). The
# demo's scenarios (tests/e2e/scenarios.sh --demo) are recorded on the home network's tap,
# each checked as in the tests, then merged in time order:
#
#	198.51.100.30  an open relay passing a stranger's spam on to a foreign MX
#	192.0.2.14     password guessing at the submission server (12 failed logins)
#	198.51.100.20  the submission server, where erin@example.org logs in from 6 countries'
#	               worth of addresses and sends "cheap watches" (a stolen password)
#	198.51.100.66  an infected PC at home mailing 12 foreign MXs directly
#	198.51.100.68  a home host a foreign MX refuses: "blocked using zen.spamhaus.org"
#	192.0.2.33     a client guessing mailbox names at the MX
#	192.0.2.37     advance-fee spam to the MX
#	and ordinary mail around them: logins with a mistyped password, a customer writing to 12
#	friends through the submission server, a mailing list, a partner's pipelined mail.
#
# Nothing leaves the namespaces; all addresses are documentation prefixes. Then the capture
# must give the quick start's report (tests/corpus/demo_report.sh) before it replaces the
# committed one.
#
# usage: sudo demo/make-demo.sh [BUILD_DIR]	(default: build; needs root, postfix, swaks,
#        tcpdump, wireshark-common's mergecap/editcap, sasl2-bin: see scripts/setup.sh)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-$root/build}
rw="$build/relaywatch"
[[ -x $rw ]] || { echo "make-demo: build relaywatch first (no $rw)" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "make-demo: needs root (network namespaces)" >&2; exit 1; }

tmp=$(mktemp /tmp/relay-demo.XXXXXX.pcap)
trap 'rm -f "$tmp"' EXIT
bash "$root/tests/e2e/scenarios.sh" "$rw" --demo "$tmp"
bash "$root/tests/corpus/demo_report.sh" "$rw" "$tmp" >/dev/null
size=$(stat -c %s "$tmp")
[[ $size -lt 2000000 ]] || { echo "make-demo: capture too big: $size bytes" >&2; exit 1; }
install -m 644 "$tmp" "$here/relay-demo.pcap"
echo "make-demo: $here/relay-demo.pcap ($size bytes)"
