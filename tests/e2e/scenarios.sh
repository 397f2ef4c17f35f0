#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# scenarios.sh: every detector of relaywatch proven on real traffic. One lab (scenlib.sh:
# postfix submission server, MX and open relay at home; foreign sinks, a blocklisting MX and
# attacking or ordinary clients abroad); per scenario one capture of the home network's tap
# holding a case where the detector must fire on the right host (and account) and a near-miss
# where it must stay silent. Each capture goes through the sensor twice:
#
#   isp  --home-net only: no hosted domains, no mail servers; both are learned
#   cfg  --config scenario_configs/home.yaml: home_domains and mail_servers given
#
# and check_alerts.py asserts the verdicts (strict: no alert the scenario did not foresee).
# No password of a test account may appear in anything the sensor wrote. Detector parameters
# stay at their defaults in both runs; detectors that need hours of history get them from real
# traffic moved in time with editcap -t (volume_anomaly: eight hours of normal rate before the
# burst; spoofed_home_domain, isp run: the MX's domain must first be learned, which takes the
# relay window of 10 minutes).
#
# usage: scenarios.sh RELAYWATCH [SCENARIO...]	(default: all; exit 77 when not root or a
#        scenarios.sh RELAYWATCH --demo OUT.pcap	 tool is missing)
# --demo runs the demo's scenarios (IPv4 only: the quick start names two IPv4 prefixes) and
# writes their merged capture (demo/make-demo.sh).
# RW_KEEP=1 keeps the captures and sensor outputs in the run's temp dir.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# Debian's python3 and tools first: a version manager's shim on PATH (pyenv) costs seconds
# per start, and the scenarios start python many times.
PATH="/usr/bin:/usr/sbin:$PATH"
SCEN_RELAYWATCH=${1:?usage: scenarios.sh RELAYWATCH [SCENARIO...] | --demo OUT.pcap}
shift
[[ -x $SCEN_RELAYWATCH ]] || { echo "not executable: $SCEN_RELAYWATCH" >&2; exit 1; }
SCEN_RELAYWATCH=$(cd "$(dirname "$SCEN_RELAYWATCH")" && pwd)/$(basename "$SCEN_RELAYWATCH")
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/e2e/postfix.sh
. "$here/postfix.sh"
# shellcheck source=tests/e2e/scenlib.sh
. "$here/scenlib.sh"

ALL=(open_relay relay_probe auth_bruteforce auth_spray compromised_account direct_mx_bot
	blocklisted recipient_harvest bounce_storm mass_recipients spoofed_home_domain
	content_signature volume_anomaly)
DEMO=(open_relay auth_bruteforce compromised_account direct_mx_bot blocklisted recipient_harvest
	content_signature)
demo_out=""
if [[ ${1:-} == --demo ]]; then
	demo_out=${2:?--demo needs an output file}
	demo_out=$(cd "$(dirname "$demo_out")" && pwd)/$(basename "$demo_out")
	set -- "${DEMO[@]}"
fi
[[ $# -gt 0 ]] || set -- "${ALL[@]}"

C=cust		# home customers' namespace (addresses 198.51.100.61 .. .99)
F=fc		# foreign clients' namespace (addresses 192.0.2.11 .. .49)
H=198.51.100	# home prefix
X=192.0.2	# foreign prefix
SEND=(--helo mail.scenario.example)

# Mail bodies the content scenario sends.
body_spam()
{
	cat <<'EOF'
Dear Beneficiary,

I am the director of the foreign remittance department. I have the sum of US$10.5 Million
deposited in your name, and your consignment box containing the funds is held at the airport.
Send your full name, address and bank details to claim your prize today.
EOF
}

body_notice()
{
	cat <<'EOF'
Hello,

We detected unusual sign-in activity on your account from a new browser. If this was you,
there is nothing to do. If not, change your password from the settings page of the portal.

The help desk
EOF
}

body_minutes()
{
	cat <<'EOF'
Hi all,

Minutes of Tuesday's meeting: the network upgrade moves to the second week of March, the
mail server migration is done, and the next review is on the 14th. Slides are on the share.

Regards,
Alice
EOF
}

# ---- scenarios -------------------------------------------------------------------------------
# Each scen_NAME makes $SCEN_W/NAME.pcap and sets EXPECT (both runs), EXPECT_ISP, EXPECT_CFG.

# A foreign client first tries the correctly configured MX (554 5.7.1 Relay access denied),
# then the open relay, which takes the foreign-to-foreign message and sends it on to a
# foreign MX: the relayed copy crosses the tap again. One refusal is no probe.
scen_open_relay()
{
	local pcap="$SCEN_W/open_relay.pcap"
	scen_capture_begin "$pcap"
	scen_send $F $X.11 $SCEN_MX 25 "${SEND[@]}" --mail-from spammer@example.net \
		--rcpt victim@example.com --subject "make money fast" --want rcpt:554=1
	scen_send $F $X.11 $SCEN_ORELAY 25 "${SEND[@]}" --mail-from spammer@example.net \
		--rcpt victim@example.com --subject "make money fast" --want rcpt:250=1 --want data:250=1
	# Ordinary inbound mail for the MX's own domain, from a foreign unauthenticated client.
	scen_send $F $X.36 $SCEN_MX 25 "${SEND[@]}" --mail-from friend@example.net \
		--rcpt bob@example.org --body-file <(body_minutes) --want data:250=1
	scen_capture_end "$pcap"
	EXPECT=(+open_relay@$SCEN_ORELAY -open_relay@$SCEN_MX -relay_probe@$X.11
		-relay_probe@$X.36)
}

# Three refused relay attempts from one client are a probe; one from another is not. The MX
# refusing is never an open relay.
scen_relay_probe()
{
	local pcap="$SCEN_W/relay_probe.pcap"
	scen_capture_begin "$pcap"
	scen_send $F $X.13 $SCEN_MX 25 "${SEND[@]}" --messages 2 --mail-from probe@example.net \
		--rcpt relaytest@example.com --want rcpt:554=2
	scen_send $F $X.13 $SCEN_MX 25 "${SEND[@]}" --mail-from probe@example.net \
		--rcpt relaytest@example.net --want rcpt:554=1
	scen_send $F $X.12 $SCEN_MX 25 "${SEND[@]}" --mail-from someone@example.net \
		--rcpt friend@example.com --want rcpt:554=1
	scen_capture_end "$pcap"
	EXPECT=(+relay_probe@$X.13 -relay_probe@$X.12 -open_relay)
}

# Twelve failed logins from one address (three sessions of four) against a user who mistypes
# twice and then gets in, and a normal client using the submission server over STARTTLS.
scen_auth_bruteforce()
{
	local pcap="$SCEN_W/auth_bruteforce.pcap" i pw=()
	for i in 1 2 3 4; do
		pw+=(--password "Scen&guess-$i")
		scen_secret "Scen&guess-$i"
	done
	scen_secret "Scen&typo-bob-1"
	scen_secret "Scen&typo-bob-2"
	scen_capture_begin "$pcap"
	scen_send $F $X.14 $SCEN_SUB 587 "${SEND[@]}" --sessions 3 --auth alice@example.org \
		"${pw[@]}" --rcpt x@a.example --want auth:535=12 --want auth:235=0
	scen_send $F $X.16 $SCEN_SUB 587 "${SEND[@]}" --auth bob@example.org \
		--password "Scen&typo-bob-1" --password "Scen&typo-bob-2" --password "$(scen_pw bob)" \
		--mail-from bob@example.org --rcpt carol@a.example --body-file <(body_minutes) \
		--want auth:535=2 --want auth:235=1 --want data:250=1
	scen_swaks $C 0 -s $SCEN_SUB -p 587 --tls --local-interface $H.61 --helo laptop.example.org \
		-a PLAIN -au henry@example.org -ap "$(scen_pw henry)" --from henry@example.org \
		--to dora@b.example --body "See you on Friday."
	scen_capture_end "$pcap"
	EXPECT=(+auth_bruteforce@$X.14 -auth_bruteforce@$X.16 -auth_bruteforce@$H.61
		-auth_spray@$X.14 -auth_spray@$X.16 -compromised_account)
}

# One address fails once with each of six user names; behind a NAT, three users mistype once
# and then log in, a fourth logs in at once.
scen_auth_spray()
{
	local pcap="$SCEN_W/auth_spray.pcap" u
	scen_secret "Scen&spray-1"
	scen_secret "Scen&nat-typo"
	scen_capture_begin "$pcap"
	for u in alice bob carol dave erin frank; do
		scen_send $F $X.15 $SCEN_SUB 587 "${SEND[@]}" --auth "$u@example.org" \
			--password "Scen&spray-1" --rcpt x@a.example --want auth:535=1
	done
	for u in carol dave frank; do
		scen_send $F $X.17 $SCEN_SUB 587 "${SEND[@]}" --auth "$u@example.org" \
			--password "Scen&nat-typo" --password "$(scen_pw $u)" \
			--mail-from "$u@example.org" --rcpt "pal@c.example" --want auth:535=1 \
			--want auth:235=1
	done
	scen_send $F $X.17 $SCEN_SUB 587 "${SEND[@]}" --auth erin@example.org \
		--password "$(scen_pw erin)" --mail-from erin@example.org --rcpt pal@c.example \
		--want auth:235=1
	scen_capture_end "$pcap"
	EXPECT=(+auth_spray@$X.15 -auth_bruteforce@$X.15 -auth_spray@$X.17 -auth_bruteforce@$X.17
		-compromised_account)
}

# One account used from six foreign addresses within minutes (a botnet sharing a stolen
# password) against one used from three (phone, laptop, home), and a mailing-list server at
# home that logs in from its one address and sends to many domains.
scen_compromised_account()
{
	local pcap="$SCEN_W/compromised_account.pcap" i rc=()
	for ((i = 0; i < ${#SCEN_FDOMAINS[@]}; i++)); do
		rc+=(--rcpt "member$i@${SCEN_FDOMAINS[$i]}.example")
	done
	scen_capture_begin "$pcap"
	for i in 21 22 23 24 25 26; do
		scen_send $F $X.$i $SCEN_SUB 587 "${SEND[@]}" --auth erin@example.org \
			--password "$(scen_pw erin)" --mail-from erin@example.org \
			--rcpt "buyer$i@b.example" --subject "cheap watches" --want data:250=1
	done
	for i in 27 28 29; do
		scen_send $F $X.$i $SCEN_SUB 587 "${SEND[@]}" --auth frank@example.org \
			--password "$(scen_pw frank)" --mail-from frank@example.org \
			--rcpt "mum@c.example" --want data:250=1
	done
	scen_send $C $H.80 $SCEN_SUB 587 --helo lists.example.org --auth list@example.org \
		--password "$(scen_pw list)" --mail-from list-bounces@example.org \
		--to list@example.org --subject "[list] weekly digest" --messages 2 "${rc[@]}" \
		--want rcpt:250=24 --want data:250=2
	scen_capture_end "$pcap"
	EXPECT=(+compromised_account@$SCEN_SUB#erin@example.org
		-compromised_account@$SCEN_SUB#frank@example.org
		-compromised_account@$SCEN_SUB#list@example.org -direct_mx_bot -volume_anomaly)
}

# An infected PC at home delivers straight to twelve foreign MXs; a customer sends one
# message to twelve domains through the submission server, which delivers it to the same
# twelve MXs (a learned, or configured, mail server).
scen_direct_mx_bot()
{
	local pcap="$SCEN_W/direct_mx_bot.pcap" i rc=()
	scen_capture_begin "$pcap"
	scen_swaks $C 0 -s $SCEN_SUB -p 587 --local-interface $H.67 --helo pc67.example.org \
		-a LOGIN -au henry@example.org -ap "$(scen_pw henry)" --from henry@example.org \
		--to "$(for d in "${SCEN_FDOMAINS[@]}"; do printf 'friend@%s.example,' "$d"; done |
			sed 's/,$//')" --body "Our new address, for your address book."
	for ((i = 0; i < ${#SCEN_FDOMAINS[@]}; i++)); do
		scen_send $C $H.66 "$(scen_fdomain_ip $i)" 25 --helo "[$H.66]" \
			--mail-from "promo@deals.example" --rcpt "user$i@${SCEN_FDOMAINS[$i]}.example" \
			--subject "Best prices" --want data:250=1
	done
	scen_capture_end "$pcap"
	EXPECT=(+direct_mx_bot@$H.66 -direct_mx_bot@$SCEN_SUB -direct_mx_bot@$H.67)
}

# A home client refused by a foreign MX that finds it on a DNS blocklist (Postfix's own
# reject_rbl_client reply), over IPv4 and, from another listed client, over IPv6 (swaks);
# another home client delivers there, one recipient unknown.
scen_blocklisted()
{
	local pcap="$SCEN_W/blocklisted.pcap"
	scen_capture_begin "$pcap"
	scen_send $C $H.68 $SCEN_FBL 25 --helo pc68.example.org --mail-from shop@example.org \
		--rcpt bob@example.net --want rcpt:554=1
	EXPECT=(+blocklisted@$H.68 -blocklisted@$H.69)
	if [[ -z $demo_out ]]; then
		scen_swaks $C 24 -6 -s "$(rw_addr6 fbl)" --local-interface "$(rw_addr6 cust)" \
			--helo pc60.example.org --from ann@example.org --to bob@example.net
		EXPECT+=("+blocklisted@$(rw_addr6 cust)")
	fi
	scen_send $C $H.69 $SCEN_FBL 25 --helo pc69.example.org --mail-from ann@example.org \
		--rcpt bob@example.net --rcpt rob@example.net --body-file <(body_minutes) \
		--want rcpt:250=1 --want rcpt:550=1 --want data:250=1
	scen_capture_end "$pcap"
}

# Guessed recipients: four sessions of six unknown users and two real ones (each session
# stays under Postfix's soft error limit of ten); against a sender with two typos among 26
# recipients, pipelined.
scen_recipient_harvest()
{
	local pcap="$SCEN_W/recipient_harvest.pcap" s n rc
	scen_capture_begin "$pcap"
	for s in 1 2 3 4; do
		rc=()
		for n in 1 2 3 4 5 6; do
			rc+=(--rcpt "$(printf 'user%02d%d@example.org' "$s" "$n")")
		done
		scen_send $F $X.33 $SCEN_MX 25 --helo harvest.example "${rc[@]}" --rcpt alice@example.org \
			--rcpt bob@example.org --mail-from news@example.net --want rcpt:550=6 \
			--want rcpt:250=2
	done
	scen_swaks $F 0 -s $SCEN_MX --local-interface $X.34 --helo mx.partner.example --pipeline \
		--from team@partner.example \
		--to alice@example.org,bob@example.org,carol@example.org,dave@example.org,erin@example.org,frank@example.org,gina@example.org,henry@example.org,bbo@example.org
	scen_swaks $F 0 -s $SCEN_MX --local-interface $X.34 --helo mx.partner.example --pipeline \
		--from team@partner.example \
		--to alice@example.org,bob@example.org,carol@example.org,dave@example.org,erin@example.org,frank@example.org,gina@example.org,henry@example.org,carlo@example.org
	scen_swaks $F 0 -s $SCEN_MX --local-interface $X.34 --helo mx.partner.example --pipeline \
		--from team@partner.example \
		--to alice@example.org,bob@example.org,carol@example.org,dave@example.org,erin@example.org,frank@example.org,gina@example.org,henry@example.org
	scen_capture_end "$pcap"
	EXPECT=(+recipient_harvest@$X.33 -recipient_harvest@$X.34)
}

# Backscatter: 22 null-sender messages to bob (who never sent any) and 22 to dave, who had
# sent as dave@example.org through the submission server (his spam bouncing: the account is
# compromised too); carol, who also sent, gets two real bounces.
scen_bounce_storm()
{
	local pcap="$SCEN_W/bounce_storm.pcap" u
	scen_capture_begin "$pcap"
	scen_send $C $H.62 $SCEN_SUB 587 --helo pc62.example.org --auth dave@example.org \
		--password "$(scen_pw dave)" --mail-from dave@example.org --rcpt lead@c.example \
		--want data:250=1
	scen_send $C $H.63 $SCEN_SUB 587 --helo pc63.example.org --auth carol@example.org \
		--password "$(scen_pw carol)" --mail-from carol@example.org --rcpt aunt@c.example \
		--want data:250=1
	for u in bob dave; do
		scen_send $F $X.31 $SCEN_MX 25 --helo mx.bounces.example --mail-from "" \
			--from-header "MAILER-DAEMON@bounces.example" --messages 22 \
			--rcpt "$u@example.org" --subject "Undelivered Mail Returned to Sender" \
			--want data:250=22
	done
	scen_send $F $X.32 $SCEN_MX 25 --helo mx.c.example --mail-from "" \
		--from-header "MAILER-DAEMON@c.example" --messages 2 --rcpt carol@example.org \
		--subject "Undelivered Mail Returned to Sender" --want data:250=2
	scen_capture_end "$pcap"
	EXPECT=(+bounce_storm@$SCEN_MX#bob@example.org +bounce_storm@$SCEN_MX#dave@example.org
		-bounce_storm@$SCEN_MX#carol@example.org
		+compromised_account@$SCEN_SUB#dave@example.org
		-compromised_account@$SCEN_SUB#carol@example.org -compromised_account@$SCEN_SUB#bob@example.org)
}

# The Bcc mistake: 120 addresses in To: and Cc: of one message; a team mail with 20. Both go
# out: the submission server passes each on to a foreign MX, and that copy (same headers, the
# customer in its Received: path) is the server relaying, not the server's own mistake.
scen_mass_recipients()
{
	local pcap="$SCEN_W/mass_recipients.pcap" to120 cc120 to20 cc20
	to120=$(seq -f 'customer%g@example.com' 1 80 | paste -sd,)
	cc120=$(seq -f 'customer%g@example.com' 81 120 | paste -sd,)
	to20=$(seq -f 'colleague%g@example.com' 1 15 | paste -sd,)
	cc20=$(seq -f 'colleague%g@example.com' 16 20 | paste -sd,)
	scen_capture_begin "$pcap"
	scen_send $C $H.70 $SCEN_SUB 587 --helo pc70.example.org --auth gina@example.org \
		--password "$(scen_pw gina)" --mail-from gina@example.org --to "$to120" \
		--cc "$cc120" --rcpt customers@a.example --subject "Price list 2024" --want data:250=1
	scen_send $C $H.71 $SCEN_SUB 587 --helo pc71.example.org --auth alice@example.org \
		--password "$(scen_pw alice)" --mail-from alice@example.org --to "$to20" \
		--cc "$cc20" --rcpt team@b.example --subject "Team lunch" \
		--body-file <(body_minutes) --want data:250=1
	scen_capture_end "$pcap"
	EXPECT=(+mass_recipients@$H.70#gina@example.org -mass_recipients@$H.71
		-mass_recipients@$SCEN_SUB)
}

# A foreign, unauthenticated client sends MAIL FROM the home domain and the MX accepts it;
# a roaming customer sends as herself after AUTH. Without home_domains the sensor learns
# example.org as hosted when mail the MX accepted for it never leaves again within the relay
# window (10 minutes), and only once the MX's own outbound mail was seen: so the spoofing part
# of the capture is moved 11 minutes later (real traffic, shifted with editcap -t).
scen_spoofed_home_domain()
{
	local learn="$SCEN_W/spoof-learn.pcap" spoof="$SCEN_W/spoof-act.pcap" mxdir
	mxdir=$(pf_dir mx)
	scen_capture_begin "$learn"
	# The MX's own mail going out (a report from the server): it is seen as a client.
	printf 'Subject: daily report\nFrom: postmaster@example.org\n\nAll queues empty.\n' |
		pf_exec mx /usr/sbin/sendmail -C "$mxdir" -f postmaster@example.org \
			reports@monitor.example || rw_die "sendmail on the MX"
	scen_send $F $X.36 $SCEN_MX 25 "${SEND[@]}" --mail-from friend@example.net \
		--rcpt bob@example.org --rcpt carol@example.org --body-file <(body_minutes) \
		--want data:250=1
	scen_capture_end "$learn"
	scen_capture_begin "$spoof"
	scen_send $F $X.35 $SCEN_MX 25 --helo example.org --mail-from ceo@example.org \
		--rcpt bob@example.org --subject "Urgent wire transfer" --want data:250=1
	scen_send $F $X.39 $SCEN_SUB 587 --helo laptop.example.org --auth alice@example.org \
		--password "$(scen_pw alice)" --mail-from alice@example.org --rcpt bob@example.org \
		--subject "from the road" --want data:250=1
	scen_send $F $X.36 $SCEN_MX 25 "${SEND[@]}" --mail-from friend@example.net \
		--rcpt bob@example.org --want data:250=1
	scen_capture_end "$spoof"
	scen_shift "$spoof" "$SCEN_W/spoof-act+11m.pcap" 660
	scen_merge "$SCEN_W/spoofed_home_domain.pcap" "$learn" "$SCEN_W/spoof-act+11m.pcap"
	# Why: unshifted, the isp run cannot know example.org is a home domain yet.
	scen_merge "$SCEN_W/spoof-unshifted.pcap" "$learn" "$spoof"
	scen_sensor "$SCEN_W/spoof-unshifted.pcap" "$SCEN_W/spoof-unshifted.isp" \
		--home-net "$SCEN_HOME_NET"
	rw_log "spoofed_home_domain, isp run without the 11 minutes: $(scen_engine_fact \
		"$SCEN_W/spoof-unshifted.isp" domains_learned) domain(s) learned, alerts: $(
		wc -l <"$SCEN_W/spoof-unshifted.isp/alerts.json")"
	EXPECT=(+spoofed_home_domain@$X.35 -spoofed_home_domain@$X.39 -spoofed_home_domain@$X.36
		-open_relay)
}

# Spam and phishing content against ordinary mail and a real security notice (its phrase
# matches a low-severity rule: evidence, not an alert).
scen_content_signature()
{
	local pcap="$SCEN_W/content_signature.pcap"
	scen_capture_begin "$pcap"
	scen_send $F $X.37 $SCEN_MX 25 --helo mail.remit.example --mail-from director@remit.example \
		--rcpt carol@example.org --subject "Your overdue payment" --body-file <(body_spam) \
		--want data:250=1
	scen_send $F $X.38 $SCEN_MX 25 "${SEND[@]}" --mail-from alice@partner.example \
		--rcpt carol@example.org --subject "Minutes" --body-file <(body_minutes) \
		--want data:250=1
	scen_send $F $X.38 $SCEN_MX 25 "${SEND[@]}" --mail-from helpdesk@partner.example \
		--rcpt carol@example.org --subject "New sign-in" --body-file <(body_notice) \
		--want data:250=1
	scen_capture_end "$pcap"
	EXPECT=(+content_signature@$X.37 -content_signature@$X.38)
}

# A host's normal rate, then a burst. One hour of real traffic (a home host sends one message
# to the MX; the mailing-list server posts 60 messages of 12 recipients through the submission
# server) repeated at -8 h .. -1 h with editcap -t, then the last 10 minutes: the host sends 60
# messages (tenfold its baseline and past min_messages), the list server its usual 60.
scen_volume_anomaly()
{
	local hour="$SCEN_W/volume-hour.pcap" last="$SCEN_W/volume-last.pcap" k i parts=() rc=()
	for ((i = 0; i < ${#SCEN_FDOMAINS[@]}; i++)); do
		rc+=(--rcpt "member$i@list$i.example")
	done
	scen_capture_begin "$hour"
	scen_send $C $H.81 $SCEN_MX 25 --helo pc81.example.org --mail-from shop@example.org \
		--rcpt alice@example.org --subject "order confirmation" --want data:250=1
	scen_send $C $H.80 $SCEN_SUB 587 --helo lists.example.org --auth list@example.org \
		--password "$(scen_pw list)" --mail-from list-bounces@example.org \
		--to list@example.org --subject "[list] post" --messages 60 "${rc[@]}" \
		--want data:250=60
	scen_capture_end "$hour"
	scen_capture_begin "$last"
	scen_send $C $H.81 $SCEN_MX 25 --helo pc81.example.org --mail-from shop@example.org \
		--rcpt alice@example.org --subject "order confirmation" --messages 60 \
		--want data:250=60
	scen_send $C $H.80 $SCEN_SUB 587 --helo lists.example.org --auth list@example.org \
		--password "$(scen_pw list)" --mail-from list-bounces@example.org \
		--to list@example.org --subject "[list] post" --messages 60 "${rc[@]}" \
		--want data:250=60
	scen_capture_end "$last"
	for k in 8 7 6 5 4 3 2 1; do
		scen_shift "$hour" "$SCEN_W/volume-hour-$k.pcap" "-$((k * 3600))"
		parts+=("$SCEN_W/volume-hour-$k.pcap")
	done
	scen_merge "$SCEN_W/volume_anomaly.pcap" "${parts[@]}" "$last"
	EXPECT=(+volume_anomaly@$H.81 -volume_anomaly@$H.80 -volume_anomaly@$SCEN_SUB
		-compromised_account -direct_mx_bot)
}

# ---- driver -----------------------------------------------------------------------------------

# scen_judge NAME: the scenario's capture through the sensor, both ways at once, then the
# verdicts and the password check. Runs in the background while the next scenario makes its
# traffic (that part mostly waits on the MTAs); its output goes to NAME.judge.log, and its
# exit status says whether every verdict held.
scen_judge()
{
	local name=$1 pcap="$SCEN_W/$1.pcap" a b run rc=0 t0=$SECONDS extra
	(scen_sensor "$pcap" "$SCEN_W/$name.isp" --home-net "$SCEN_HOME_NET") &
	a=$!
	(scen_sensor "$pcap" "$SCEN_W/$name.cfg" --home-net "$SCEN_HOME_NET" \
		--config "$here/scenario_configs/home.yaml") &
	b=$!
	wait "$a" || rw_die "$name: the sensor failed (isp run)"
	wait "$b" || rw_die "$name: the sensor failed (cfg run)"
	for run in isp cfg; do
		if [[ $run == isp ]]; then
			extra=("${EXPECT_ISP[@]}")
		else
			extra=("${EXPECT_CFG[@]}")
		fi
		python3 "$here/check_alerts.py" "$SCEN_W/$name.$run/alerts.json" --label "$name/$run" \
			--strict "${EXPECT[@]}" "${extra[@]}" || rc=1
	done
	scen_no_secrets "$SCEN_W/$name.isp" "$SCEN_W/$name.cfg"
	rw_log "$name: judged in $((SECONDS - t0)) s"
	return "$rc"
}

# scen_judged: wait for the oldest judge, print its log, note a failure.
scen_judged()
{
	local pid=${judges[0]} name=${judged[0]}
	judges=("${judges[@]:1}")
	judged=("${judged[@]:1}")
	wait "$pid" || failed+=("$name")
	cat "$SCEN_W/$name.judge.log" >&2
}

rw_init tcpdump swaks python3 editcap mergecap capinfos openssl saslpasswd2
start=$SECONDS
SCEN_W="$RW_TMP/scen"
mkdir -p "$SCEN_W"
scen_lab_up
rw_log "lab up in $((SECONDS - start)) s"
failed=() judges=() judged=()
for name in "$@"; do
	declare -F "scen_$name" >/dev/null || rw_die "unknown scenario: $name"
	SCEN_NAME=$name
	EXPECT=() EXPECT_ISP=() EXPECT_CFG=()
	t0=$SECONDS
	"scen_$name"
	rw_log "$name: traffic in $((SECONDS - t0)) s"
	# At most two judges (four sensors) at a time.
	[[ ${#judges[@]} -lt 2 ]] || scen_judged
	scen_judge "$name" >"$SCEN_W/$name.judge.log" 2>&1 &
	judges+=($!)
	judged+=("$name")
	RW_PIDS+=($!)
done
while [[ ${#judges[@]} -gt 0 ]]; do
	scen_judged
done
if [[ -n $demo_out ]]; then
	parts=()
	for name in "$@"; do parts+=("$SCEN_W/$name.pcap"); done
	scen_merge "$demo_out" "${parts[@]}"
	rw_log "demo capture: $demo_out ($(stat -c %s "$demo_out") bytes)"
fi
rw_log "$# scenarios in $((SECONDS - start)) s"
[[ ${#failed[@]} -eq 0 ]] || rw_die "verdicts wrong in: ${failed[*]}"
rw_log "PASS"
