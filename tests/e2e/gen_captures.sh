#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# gen_captures.sh: regenerate the lab captures in tests/captures/ and their expected
# transaction logs in tests/captures/expected/. Run by a developer (root), not by the tests:
# the pcaps are committed. Real postfix instances in namespaces (postfix.sh), real clients
# (swaks, clients/bdat_client.py), tcpdump on the lab router; expectations come from the
# capture's bytes and postfix's replies (derive_expected.py), never from the sensor.
#
# usage: tests/e2e/gen_captures.sh [OUT_DIR]	(default: tests/captures)
# Exit 77 when a tool is missing or not root. See tests/captures/README.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../captures}
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/e2e/postfix.sh
. "$here/postfix.sh"

rw_init swaks tcpdump tshark python3 openssl saslpasswd2 clang
support=$(swaks --support 2>&1 || true)
[[ $support == *"=== IPv6 supported"* ]] || rw_skip "swaks without IPv6 (libio-socket-inet6-perl)"
[[ $support == *"=== TLS supported"* ]] || rw_skip "swaks without TLS (libnet-ssleay-perl)"
start=$SECONDS

# ---- the lab -----------------------------------------------------------------------------
# client side 192.0.2.0/24: the client; server side 198.51.100.0/24: the servers; side "vlan"
# 203.0.113.0/24 behind 802.1Q VLAN 100: a second client.
rw_topo_basic					# client 192.0.2.10, server 198.51.100.10
rw_host_add server submit 20
rw_host_add server sink 30
rw_host_add server relay 40
rw_host_add server bl 50
rw_side_add vlan 203.0.113 2001:db8:3: 100
rw_host_add vlan vclient 10

SINK=$(rw_addr4 sink)
pf_create mx server mx domain=example.org
for u in alice bob carol dave; do pf_user mx "$u"; done
pf_create submit submit submission domain=example.com relay="$SINK"
# Every account has its own password; all of them (and the wrong ones) start with
# "Tr0ub4dor&3-" so tests can grep every output of the sensor for that prefix.
pf_user submit alice 'Tr0ub4dor&3-1'
pf_user submit bob 'Tr0ub4dor&3-2'
pf_user submit carol 'Tr0ub4dor&3-3'
pf_user submit dave 'Tr0ub4dor&3-4'
pf_user submit erin 'Tr0ub4dor&3-5'
pf_create sink sink sink domain=example.net
pf_create relay relay openrelay domain=example.net relay="$SINK"
pf_create bl bl blocklist domain=example.net block="$(rw_addr4 client)"
pf_user bl bob
for i in mx submit sink relay bl; do pf_start "$i"; done

work="$RW_TMP/captures"
mkdir -p "$work/expected" "$work/msg"

# ---- helpers -----------------------------------------------------------------------------
# msg NAME FROM TO CC SUBJECT: a message file with fixed Date and Message-ID (fields may be "").
msg()
{
	local f="$work/msg/$1.eml"
	{
		printf 'Date: Tue, 02 Jan 2024 10:00:00 +0000\n'
		printf 'From: %s\n' "$2"
		[[ -z $3 ]] || printf 'To: %s\n' "$3"
		[[ -z $4 ]] || printf 'Cc: %s\n' "$4"
		printf 'Subject: %s\n' "$5"
		printf 'Message-ID: <%s.20240102100000@client.example.net>\n' "$1"
		printf 'X-Mailer: relaywatch-lab gen_captures\n'
		printf 'MIME-Version: 1.0\n'
		printf 'Content-Type: text/plain; charset=utf-8\n'
		printf 'Content-Transfer-Encoding: 8bit\n\n'
		printf 'This is the %s test message of the relaywatch lab.\n' "$1"
		printf 'It was sent by tests/e2e/gen_captures.sh.\n'
	} >"$f"
	echo "$f"
}

# capture NAME IFACE PORT HOST CMD...: run CMD in HOST while tcpdump records IFACE; keep the
# pcap when CMD's conversation has fully closed. CMD's exit status is logged, not fatal:
# refused mail makes swaks exit non-zero on purpose.
capture()
{
	local name=$1 dev=$2 port=$3 host=$4 rc=0
	shift 4
	rw_capture_start "$dev" "$work/$name.pcap" "tcp port $port"
	rw_exec "$host" "$@" >"$work/$name.client.log" 2>&1 || rc=$?
	rw_wait_tcp_idle "$host" "$port"
	rw_capture_stop "$work/$name.pcap"
	rw_log "$name: client exit status $rc"
	echo "$rc" >"$work/$name.rc"
}

# expect NAME RC NOTES: the client must have exited with RC; write the expected JSON.
expect()
{
	local name=$1 want=$2 notes=$3 got
	got=$(cat "$work/$name.rc")
	[[ $got == "$want" ]] || { cat "$work/$name.client.log" >&2; rw_die "$name: client exit $got, want $want"; }
	python3 "$here/derive_expected.py" "$work/$name.pcap" "$work/expected/$name.pcap.json" \
		--capture "$name.pcap" --packages "$work/packages.json" --notes "$notes"
}

# 30 s per reply, as in dpdk_af_packet.sh: on a loaded 2-CPU machine postfix's first RCPT
# (which starts its lookup services) can take longer than 10 s.
S=(swaks --helo client.example.net --timeout 30)
MX=$(rw_addr4 server)
SUB=$(rw_addr4 submit)

pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo unknown; }
python3 - "$work/packages.json" <<EOF
import json, sys
json.dump({"postfix": "$(pkgver postfix)", "swaks": "$(pkgver swaks)",
           "tcpdump": "$(pkgver tcpdump)", "tshark": "$(pkgver tshark)",
           "libsasl2-modules": "$(pkgver libsasl2-modules)", "sasl2-bin": "$(pkgver sasl2-bin)",
           "openssl": "$(pkgver openssl)", "python3": "$(pkgver python3)",
           "libnet-ssleay-perl": "$(pkgver libnet-ssleay-perl)",
           "libio-socket-inet6-perl": "$(pkgver libio-socket-inet6-perl)",
           "linux": "$(uname -r)"}, open(sys.argv[1], "w"), indent=1, sort_keys=True)
EOF

# ---- AUTH on the submission port (cleartext: the server allows AUTH before STARTTLS) -----
auth_capture()
{
	local name=$1 mech=$2 user=$3 pass=$4 want=$5 m
	m=$(msg "$name" "$user" "Dest <dest@example.net>" "" "$name")
	capture "$name" br-client 587 client "${S[@]}" -s "$SUB" -p 587 --from "$user" \
		--to dest@example.net -a "$mech" -au "$user" -ap "$pass" --data "$m"
	expect "$name" "$want" "$mech as $user, password $6."
}
auth_capture auth-plain-success PLAIN alice@example.com 'Tr0ub4dor&3-1' 0 "Tr0ub4dor&3-1 (right)"
auth_capture auth-plain-failure PLAIN bob@example.com 'Tr0ub4dor&3-wrong-2' 28 \
	"Tr0ub4dor&3-wrong-2 (wrong: 535, swaks quits)"
auth_capture auth-login-success LOGIN carol@example.com 'Tr0ub4dor&3-3' 0 "Tr0ub4dor&3-3 (right)"
auth_capture auth-login-failure LOGIN dave@example.com 'Tr0ub4dor&3-wrong-4' 28 \
	"Tr0ub4dor&3-wrong-4 (wrong: 535, swaks quits)"
auth_capture auth-cram-md5-success CRAM-MD5 erin@example.com 'Tr0ub4dor&3-5' 0 \
	"Tr0ub4dor&3-5 (right; only an HMAC of it is on the wire)"

# ---- PIPELINING: MAIL, 5 RCPT and DATA in one write; two RCPT refused --------------------
m=$(msg pipelining "Sender <sender@example.net>" "Alice <alice@example.org>, bob@example.org" \
	"Carol <carol@example.org>" "pipelined with refused recipients")
capture pipelining br-client 25 client "${S[@]}" -s "$MX" --pipeline --from sender@example.net \
	--to alice@example.org,nobody@example.org,bob@example.org,victim@example.com,carol@example.org \
	--data "$m"
expect pipelining 0 "swaks --pipeline: MAIL, five RCPT and DATA sent in one segment; nobody@ gets 550 5.1.1 (unknown user), victim@example.com 554 5.7.1 (relay access denied)."

# ---- BDAT (CHUNKING): three chunks ending with BDAT 0 LAST, then a one-chunk message ----
m1=$(msg bdat-1 "Sender <sender@example.net>" "Alice <alice@example.org>" "" "bdat chunked, zero-octet last chunk")
m2=$(msg bdat-2 "Sender <sender@example.net>" "Alice <alice@example.org>" "" "bdat single chunk")
capture bdat br-client 25 client python3 "$here/clients/bdat_client.py" --server "$MX" \
	--helo client.example.net --mail-from sender@example.net --rcpt alice@example.org \
	--tx "150,120,0:$m1" --tx ":$m2"
expect bdat 0 "clients/bdat_client.py: transaction 1 is BDAT 150, BDAT 120, BDAT <rest>, BDAT 0 LAST; transaction 2 is one BDAT <n> LAST."

# ---- STARTTLS: only EHLO and STARTTLS are cleartext; AUTH and the mail go inside TLS -----
m=$(msg starttls "alice@example.com" "Dest <dest@example.net>" "" "inside tls")
capture starttls br-client 587 client "${S[@]}" -s "$SUB" -p 587 --tls --from alice@example.com \
	--to dest@example.net -a PLAIN -au alice@example.com -ap 'Tr0ub4dor&3-1' --data "$m"
expect starttls 0 "swaks --tls: EHLO, STARTTLS, 220, then TLS 1.3 (AUTH PLAIN alice@example.com with Tr0ub4dor&3-1 and the message are encrypted)."

# ---- IPv6: a whole transaction between 2001:db8:1::a and 2001:db8:2::a ------------------
m=$(msg ipv6 "Sender <sender@example.net>" "Bob <bob@example.org>" "" "over ipv6")
capture ipv6 br-client 25 client "${S[@]}" -6 -s "$(rw_addr6 server)" --from sender@example.net \
	--to bob@example.org --data "$m"
expect ipv6 0 "IPv6 only: client 2001:db8:1::a, MX 2001:db8:2::a."

# ---- VLAN: the client sits behind VLAN 100; the tap (br-vlan) sees 802.1Q-tagged frames --
m=$(msg vlan "Sender <sender@example.net>" "Carol <carol@example.org>" "" "over vlan 100")
capture vlan br-vlan 25 vclient "${S[@]}" -s "$MX" --from sender@example.net \
	--to carol@example.org --data "$m"
expect vlan 0 "Every frame carries an 802.1Q tag, VLAN 100 (client 203.0.113.10)."

# ---- To:/Cc: lists and RFC 2047 subjects: two sessions ----------------------------------
# Session 1 subject (UTF-8, Q then B, folded): "Réunion d'équipe: état des lieux ✓"
# Session 2 subject (ISO-2022-JP, B): "会議のお知らせ"
m1=$(msg headers-1 '"Sender, The" <sender@example.net>' \
	$'Alice Example <alice@example.org>, "Bob, B." <bob@example.org>,\n Carol <carol@example.org>' \
	'dave@example.org, "Eve Two" <eve@example.net>' \
	$'=?UTF-8?Q?R=C3=A9union_d=27=C3=A9quipe:?=\n =?UTF-8?B?IMOpdGF0IGRlcyBsaWV1eCDinJM=?=')
m2=$(msg headers-2 'Sender <sender@example.net>' 'alice@example.org, bob@example.org' \
	'Carol <carol@example.org>' '=?ISO-2022-JP?B?GyRCMnE1RCROJCpDTiRpJDsbKEI=?=')
rw_capture_start br-client "$work/headers.pcap" "tcp port 25"
rw_exec client "${S[@]}" -s "$MX" --from sender@example.net --to alice@example.org,bob@example.org,carol@example.org,dave@example.org \
	--data "$m1" >"$work/headers.client.log" 2>&1 || rw_die "headers session 1: $(tail -5 "$work/headers.client.log")"
rw_wait_tcp_idle client 25
rw_exec client "${S[@]}" -s "$MX" --from sender@example.net --to alice@example.org,bob@example.org,carol@example.org \
	--data "$m2" >>"$work/headers.client.log" 2>&1 || rw_die "headers session 2: $(tail -5 "$work/headers.client.log")"
rw_wait_tcp_idle client 25
rw_capture_stop "$work/headers.pcap"
echo 0 >"$work/headers.rc"
expect headers 0 "Two sessions. Session 1: folded To: list with a quoted display name holding a comma, Cc: list, subject with two adjacent UTF-8 encoded words (Q, B) folded onto two lines, decoding to \"Réunion d'équipe: état des lieux ✓\". Session 2: ISO-2022-JP B-encoded subject \"会議のお知らせ\"."

# ---- relaying refused by the MX (profile a) -----------------------------------------------
m=$(msg relay-denied "Spammer <spammer@example.net>" "Victim <victim@example.com>" "" "relay attempt")
capture relay-denied br-client 25 client "${S[@]}" -s "$MX" --from spammer@example.net \
	--to victim@example.com --data "$m"
expect relay-denied 24 "Foreign client, foreign MAIL FROM, foreign RCPT: 554 5.7.1 Relay access denied; swaks quits."

# ---- an open relay accepts the same (profile b) and passes it to the sink ----------------
m=$(msg open-relay "Spammer <spammer@example.net>" "Victim <victim@example.com>" "" "relay attempt")
capture open-relay br-client 25 client "${S[@]}" -s "$(rw_addr4 relay)" --from spammer@example.net \
	--to victim@example.com --data "$m"
expect open-relay 0 "Open relay (mynetworks 0/0): RCPT for a foreign domain from a foreign client gets 250 and the mail is relayed (to the lab sink, outside this capture)."

# ---- a blocklisting MX refuses the client (profile d) ------------------------------------
m=$(msg blocklisted "Sender <sender@example.net>" "Bob <bob@example.net>" "" "from a listed host")
capture blocklisted br-client 25 client "${S[@]}" -s "$(rw_addr4 bl)" --from sender@example.net \
	--to bob@example.net --data "$m"
expect blocklisted 24 "The MX finds the client on a blocklist: RCPT gets the Spamhaus-style 554 5.7.1 reply naming zen.spamhaus.org."

for i in mx submit sink relay bl; do
	pf_wait_idle "$i" || true
done

# ---- publish -------------------------------------------------------------------------------
mkdir -p "$out/expected"
out=$(cd "$out" && pwd)
for f in "$work"/*.pcap; do
	name=$(basename "$f")
	cp "$f" "$out/$name"
	cp "$work/expected/$name.json" "$out/expected/$name.json"
done
rw_log "wrote $(find "$work" -maxdepth 1 -name '*.pcap' | wc -l) captures to $out in $((SECONDS - start)) s"
