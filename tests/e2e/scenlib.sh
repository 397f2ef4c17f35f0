# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# scenlib.sh: the lab of the detector scenarios (scenarios.sh) and of the demo capture
# (demo/make-demo.sh). Sourced after lib.sh and postfix.sh, never run. One lab for every
# scenario: a "home" network (the operator's: 198.51.100.0/24, 2001:db8:2::/64) with its mail
# servers and customers, and a foreign network (192.0.2.0/24, 2001:db8:1::/64) with sinks
# standing in for the world's MX hosts, a blocklisting MX and the clients that attack or use
# the home servers. The tap is br-home in the router: every frame between home and foreign
# hosts is routed through it, and frames between two home hosts are bridged across it (tcpdump
# puts it in promiscuous mode), so each packet is recorded exactly once. Owns the postfix
# instances, the extra addresses and the captures it makes (all removed by lib.sh's cleanup).
#
#	home 198.51.100.20  sub     submission (587, SASL PLAIN/LOGIN, STARTTLS) for example.org;
#	                         delivers a.example .. l.example to the foreign MXs .101 .. .112
#	home 198.51.100.25  mx      MX for example.org (mailboxes, 550 5.1.1 for unknown users,
#	                         554 5.7.1 for relaying); its own outbound mail goes to .100
#	home 198.51.100.30  orelay  open relay (mynetworks 0/0), everything to the sink .100
#	home 198.51.100.60  cust    customers: one namespace, addresses .61 .. .99 (one per role)
#	ext  192.0.2.10  fc   foreign clients, addresses .11 .. .49 (one per role)
#	ext  192.0.2.50  fbl  foreign MX for example.net that rejects listed clients (DNSBL)
#	ext  192.0.2.100 sinks  "the world's MX hosts": one postfix sink on .100 .. .112

# 203.0.113.0/24 is home too, with nobody on it: the README's quick start names both prefixes.
SCEN_HOME_NET="198.51.100.0/24,203.0.113.0/24,2001:db8:2::/64"
SCEN_SUB=198.51.100.20
SCEN_MX=198.51.100.25
SCEN_ORELAY=198.51.100.30
SCEN_FBL=192.0.2.50
SCEN_SINK=192.0.2.100
SCEN_TAP=br-home
# The foreign domains and the MX each one is delivered to (sinks).
SCEN_FDOMAINS=(a b c d e f g h i j k l)
SCEN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Submission accounts (realm example.org). Every password used anywhere, right or wrong, is
# collected in SCEN_SECRETS so that no output of the sensor may contain one.
declare -A SCEN_PW=()
SCEN_SECRETS=()

scen_fdomain_ip() { echo "192.0.2.$((101 + $1))"; }

scen_pw()
{
	echo "${SCEN_PW[$1]:?no account $1}"
}

scen_secret()
{
	SCEN_SECRETS+=("$1")
}

# scen_addrs HOST V4PREFIX FIRST LAST: extra addresses on HOST's eth0 (one per role), in one
# ip -batch.
scen_addrs()
{
	local host=$1 pre=$2 i
	for ((i = $3; i <= $4; i++)); do
		echo "addr add $pre.$i/24 dev eth0"
	done | ip -n "$(rw_ns "$host")" -batch - || rw_die "$host: addresses $pre.$3 .. $pre.$4"
}

# scen_pf_start_all NAME...: pf_start for several instances at once. The first one starts in
# this shell, the others in subshells, whose bookkeeping is then redone here (cleanup stops
# every instance with pf_stop). `postfix start` first checks the installation (post-install
# makes the queue directories, then a scan for warnings): seconds of CPU per instance, most
# of a minute for five on a busy machine. So only the first instance is checked
# (`postfix check`); the others get a copy of its fresh, empty queue tree, and every start
# skips the checks (postfix-script honours queue/quick-start).
scen_pf_start_all()
{
	local first=$1 name pids=() rc=0 q0
	shift
	q0="$(pf_dir "$first")/queue"
	pf_exec "$first" postfix -c "$(pf_dir "$first")" check >"$q0.check.log" 2>&1 ||
		rw_die "postfix check for $first: $(tail -3 "$q0.check.log")"
	for name in "$@"; do
		cp -a "$q0/." "$(pf_dir "$name")/queue/" || rw_die "$name: queue directories"
	done
	for name in "$first" "$@"; do
		touch "$(pf_dir "$name")/queue/quick-start"
	done
	for name in "$@"; do
		(pf_start "$name") &
		pids+=($!)
	done
	pf_start "$first"
	for name in "${pids[@]}"; do
		wait "$name" || rc=1
	done
	for name in "$@"; do
		PF_RUNNING[$name]=1
	done
	[[ $rc == 0 ]] || rw_die "a postfix instance did not start"
}

# scen_pf_set NAME KEY=VALUE...: change an instance's main.cf before it starts.
scen_pf_set()
{
	local name=$1
	shift
	postconf -c "$(pf_dir "$name")" -e "$@" || rw_die "$name: postconf -e $*"
}

scen_lab_up()
{
	local d i u
	rw_side_add home 198.51.100 2001:db8:2:
	rw_side_add ext 192.0.2 2001:db8:1:
	rw_host_add home sub 20
	rw_host_add home mx 25
	rw_host_add home orelay 30
	rw_host_add home cust 60
	rw_host_add ext fc 10
	rw_host_add ext fbl 50
	rw_host_add ext sinks 100
	scen_addrs cust 198.51.100 61 99
	scen_addrs fc 192.0.2 11 49
	scen_addrs sinks 192.0.2 101 112

	pf_create sinks sinks sink domain=sink.example
	scen_pf_set sinks "inet_interfaces = all"
	pf_create fbl fbl blocklist domain=example.net block="198.51.100.68 2001:db8:2::3c"
	pf_user fbl bob
	pf_create mx mx mx domain=example.org relay="$SCEN_SINK"
	for u in alice bob carol dave erin frank gina henry; do pf_user mx "$u"; done
	pf_create orelay orelay openrelay domain=relay.example relay="$SCEN_SINK"
	pf_create sub sub submission domain=example.org
	for u in alice bob carol dave erin frank gina henry list; do
		SCEN_PW[$u]="Scen&pw-$u-7q"
		scen_secret "${SCEN_PW[$u]}"
		pf_user sub "$u" "${SCEN_PW[$u]}"
	done
	d="$(pf_dir sub)/transport"
	: >"$d"
	for ((i = 0; i < ${#SCEN_FDOMAINS[@]}; i++)); do
		printf '%s.example smtp:[%s]:25\n' "${SCEN_FDOMAINS[$i]}" "$(scen_fdomain_ip "$i")" >>"$d"
	done
	printf 'example.org smtp:[%s]:25\n' "$SCEN_MX" >>"$d"
	scen_pf_set sub "transport_maps = texthash:$d"
	# fbl first, in this shell: its DNSBL zone is a process of ours.
	scen_pf_start_all fbl sinks mx orelay sub
}

# ---- clients -------------------------------------------------------------------------------

# scen_send HOST SOURCE SERVER PORT ARGS...: clients/scen_send.py from SOURCE (an address of
# HOST) with --want checks; dies when the servers did not answer as wanted.
scen_send()
{
	local host=$1 src=$2 srv=$3 port=$4 log
	shift 4
	log="$SCEN_W/$SCEN_NAME.client.log"
	echo "+ scen_send $src -> $srv:$port $*" >>"$log"
	rw_exec "$host" timeout 150 python3 "$SCEN_DIR/clients/scen_send.py" --source "$src" \
		--server "$srv" --port "$port" --tag "$SCEN_NAME" "$@" >>"$log" 2>&1 ||
		rw_die "$SCEN_NAME: scen_send from $src to $srv:$port: $(tail -3 "$log")"
}

# scen_swaks HOST WANT_RC ARGS...: swaks in HOST; its exit status must be WANT_RC (swaks exits
# 24/28 on purpose when the server refuses). 30 s per reply, as in dpdk_af_packet.sh: the
# sensor's threads and the suite share 2 CPUs with postfix, whose first RCPT starts its lookup
# services, and a 10 s wait timed out in CI there. The whole session stays bounded: 120 s.
scen_swaks()
{
	local host=$1 want=$2 rc=0 log
	shift 2
	log="$SCEN_W/$SCEN_NAME.client.log"
	echo "+ swaks $*" >>"$log"
	rw_exec "$host" timeout 120 swaks --timeout 30 "$@" >>"$log" 2>&1 || rc=$?
	[[ $rc == "$want" ]] || rw_die "$SCEN_NAME: swaks exit $rc, want $want: $(tail -5 "$log")"
}

# ---- captures ------------------------------------------------------------------------------

# scen_smtp_idle HOST: no SMTP connection (25, 587) in HOST but in TIME-WAIT.
scen_smtp_idle()
{
	[[ -z $(rw_exec "$1" ss -Htn state syn-sent state syn-recv state established \
		state fin-wait-1 state fin-wait-2 state close-wait state last-ack state closing \
		'( sport = :25 or dport = :25 or sport = :587 or dport = :587 )' 2>/dev/null) ]]
}

# scen_quiet: every queue empty (mail delivered or dropped), no SMTP connection left open.
# Every SMTP connection of the lab has its server end in one of the servers' namespaces.
scen_quiet()
{
	local i
	for i in sub mx orelay sinks fbl; do
		pf_wait_idle "$i" || rw_die "$SCEN_NAME: postfix $i still has mail queued"
	done
	for i in sub mx orelay sinks fbl; do
		rw_wait 100 scen_smtp_idle "$i" || rw_die "$SCEN_NAME: connections left open in $i"
	done
}

# scen_capture_begin FILE / scen_capture_end FILE: record the tap around a scenario's
# traffic; the capture ends once all of it was delivered and every connection closed.
scen_capture_begin()
{
	RW_CAPTURE_BUFFER_KIB=65536 rw_capture_start "$SCEN_TAP" "$1" 'tcp'
}

scen_capture_end()
{
	scen_quiet
	rw_capture_stop "$1"
}

# scen_shift IN OUT SECONDS: the capture moved in time (editcap -t), so a detector that
# needs history sees hours of it while the lab makes it in seconds.
scen_shift()
{
	editcap -F pcap -t "$3" "$1" "$2" >/dev/null || rw_die "editcap -t $3 $1"
}

# scen_merge OUT IN...: captures merged in time order.
scen_merge()
{
	local out=$1
	shift
	mergecap -F pcap -w "$out" "$@" || rw_die "mergecap $*"
}

# ---- the sensor ------------------------------------------------------------------------------

# scen_sensor PCAP OUTDIR [ARGS...]: relaywatch -r with its JSON report in OUTDIR/report.json.
# Under ASan (scripts/test.sh runs this suite in the sanitizer build too) the start-up's
# Hyperscan compile churns through ASan's 256 MB quarantine of freed blocks: with 8 MB each
# of the 27 runs takes half the CPU (4.7 s instead of 8.7 s) and a third of the memory.
scen_sensor()
{
	local pcap=$1 out=$2
	shift 2
	mkdir -p "$out"
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8" \
		"$SCEN_RELAYWATCH" -q -r "$pcap" -l "$out" --report json "$@" >"$out/report.json" \
		2>"$out/stderr.log" || rw_die "relaywatch -r $pcap $*: $(tail -5 "$out/stderr.log")"
}

# scen_engine_fact OUTDIR KEY: a number from the "engine" part of the JSON report.
scen_engine_fact()
{
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["engine"][sys.argv[2]])' \
		"$1/report.json" "$2"
}

# scen_no_secrets DIR...: no password (nor its base64, nor a PLAIN/LOGIN exchange's base64)
# in any file the sensor wrote.
scen_no_secrets()
{
	local list="$SCEN_W/$SCEN_NAME.secrets.txt" u
	python3 - "${SCEN_SECRETS[@]}" >"$list" <<'EOF'
import base64, sys
for pw in sys.argv[1:]:
    print(pw)
    print(base64.b64encode(pw.encode()).decode().rstrip("="))
EOF
	for u in "${!SCEN_PW[@]}"; do
		printf '\0%s@example.org\0%s' "$u" "${SCEN_PW[$u]}" | base64 -w0 | tr -d '=' >>"$list"
		echo >>"$list"
	done
	if grep -rFl -f "$list" "$@" >"$list.leaks" 2>/dev/null; then
		rw_die "a password or its base64 is in: $(tr '\n' ' ' <"$list.leaks")"
	fi
}
