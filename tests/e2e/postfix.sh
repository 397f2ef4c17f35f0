# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# postfix.sh: independent postfix instances for the e2e lab, sourced after lib.sh. Each
# instance lives in one lab host's namespace with its own config, queue and data dirs under
# $RW_TMP (`postfix -c DIR`), listens only on that host's addresses and never looks up DNS;
# the machine's own /etc/postfix and its queue are never read for mail or written. Owns the
# instances it started: rw_cleanup stops them (hook pf_stop_all). Profiles:
#
#	mx		MX for $domain: virtual mailboxes (users added with pf_user), unknown users
#			550 5.1.1, relaying refused 554 5.7.1 Relay access denied
#	openrelay	accepts mail for any domain from anyone (mynetworks 0/0)
#	submission	port 587, SMTP AUTH (Cyrus SASL sasldb: PLAIN LOGIN CRAM-MD5), STARTTLS with
#			a self-signed certificate made now; AUTH also allowed before STARTTLS
#	blocklist	like mx, but reject_rbl_client zen.spamhaus.org against a lab DNSBL
#			(clients/dnsbl.py): RCPT from a listed client gets "554 5.7.1 Service
#			unavailable; Client host [IP] blocked using zen.spamhaus.org; ..."
#			(block="IP..." lists those, default every other lab host)
#	sink		accepts everything and discards it
#
# Mail that is not for the instance itself goes to relay=IP (another lab host, by address)
# or, without one, to the discard transport: nothing ever leaves the namespaces.
#
#	pf_create NAME HOST PROFILE [domain=D] [relay=IP] [block="IP IP"] [port=N]
#	pf_user NAME USER [PASSWORD]	# mailbox (mx, blocklist) or SASL account (submission)
#	pf_start NAME; pf_wait_idle NAME; pf_stop NAME

declare -A PF_DIR=() PF_HOST=() PF_PROFILE=() PF_PORT=() PF_DOMAIN=() PF_RUNNING=() PF_BLOCK=()
PF_LOOKUP_OFF="smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native"

pf_require()
{
	rw_require_cmds postfix postconf
	id postfix >/dev/null 2>&1 || rw_skip "no postfix user"
	getent group postdrop >/dev/null 2>&1 || rw_skip "no postdrop group"
	[[ -x $(postconf -d -h daemon_directory 2>/dev/null)/master ]] ||
		rw_skip "postfix daemons not found"
}

pf_dir() { echo "${PF_DIR[$1]:?unknown postfix instance $1}"; }

# The master.cf every profile shares: no chroot (nothing to copy into one), logging to a
# file through postlogd instead of syslog.
pf_master_cf()
{
	local port=$1 extra=$2
	cat <<EOF
$port      inet  n       -       n       -       -       smtpd$extra
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

pf_main_cf_common()
{
	local name=$1 host=$2 dir=$3 domain=$4 relay=$5
	cat <<EOF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
myhostname = $name.$domain
mydomain = $domain
myorigin = \$mydomain
inet_interfaces = $(rw_addr4 "$host"), $(rw_addr6 "$host")
inet_protocols = all
mynetworks = 127.0.0.0/8 [::1]/128
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
append_dot_mydomain = no
biff = no
smtpd_banner = \$myhostname ESMTP Postfix
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
$PF_LOOKUP_OFF
smtp_tls_security_level = none
smtpd_tls_security_level = none
notify_classes =
delay_warning_time = 0
maximal_queue_lifetime = 1h
bounce_queue_lifetime = 1h
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
EOF
	if [[ -n $relay ]]; then
		echo "relayhost = [$relay]:25"
	else
		printf 'default_transport = discard\nrelay_transport = discard\n'
	fi
}

pf_profile_mx()
{
	local dir=$1 domain=$2
	: >"$dir/vmailbox"
	mkdir -p "$dir/mail"
	chown postfix:postfix "$dir/mail"
	cat <<EOF
virtual_mailbox_domains = $domain
virtual_mailbox_maps = texthash:$dir/vmailbox
virtual_mailbox_base = $dir/mail
virtual_uid_maps = static:$(id -u postfix)
virtual_gid_maps = static:$(id -g postfix)
virtual_transport = virtual
EOF
}

# A real reject_rbl_client lookup, answered by clients/dnsbl.py in the same namespace (the
# instance gets its own resolv.conf, see pf_start), so the reply is Postfix's own text:
# "554 5.7.1 Service unavailable; Client host [IP] blocked using zen.spamhaus.org; <TXT>".
pf_profile_blocklist()
{
	local dir=$1 domain=$2 host=$3
	pf_profile_mx "$dir" "$domain"
	printf 'nameserver %s\noptions timeout:1 attempts:2\n' "$(rw_addr4 "$host")" \
		>"$dir/resolv.conf"
	echo "smtpd_client_restrictions = reject_rbl_client zen.spamhaus.org"
}

# smtpd refuses restriction lists without a reject_unauth_destination (or alike): "everyone
# is in mynetworks" is how such relays are really configured anyway.
pf_profile_openrelay()
{
	cat <<EOF
mynetworks = 0.0.0.0/0 [::]/0
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
EOF
}

pf_profile_sink()
{
	cat <<EOF
mynetworks = 0.0.0.0/0 [::]/0
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
default_transport = discard
relay_transport = discard
local_transport = discard
virtual_transport = discard
EOF
}

pf_profile_submission()
{
	local dir=$1 name=$2 domain=$3
	mkdir -p "$dir/tls" "$dir/sasl"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=$name.$domain" -keyout "$dir/tls/key.pem" -out "$dir/tls/cert.pem" \
		>"$dir/tls/openssl.log" 2>&1 || rw_die "$name: openssl req: $(cat "$dir/tls/openssl.log")"
	chmod 640 "$dir/tls/key.pem"
	cat >"$dir/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN CRAM-MD5
sasldb_path: $dir/sasl/sasldb2
EOF
	cat <<EOF
smtpd_tls_security_level = may
smtpd_tls_cert_file = $dir/tls/cert.pem
smtpd_tls_key_file = $dir/tls/key.pem
smtpd_tls_auth_only = no
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $dir/sasl
smtpd_sasl_security_options = noanonymous
smtpd_sasl_authenticated_header = no
smtpd_relay_restrictions = permit_sasl_authenticated, reject
EOF
}

# pf_create NAME HOST PROFILE [domain=D] [relay=IP] [block="IP..."] [port=N]
pf_create()
{
	local name=$1 host=$2 profile=$3 domain=example.org relay="" block="" port=25 kv dir
	shift 3
	for kv in "$@"; do
		case $kv in
		domain=*) domain=${kv#domain=} ;;
		relay=*) relay=${kv#relay=} ;;
		block=*) block=${kv#block=} ;;
		port=*) port=${kv#port=} ;;
		*) rw_die "pf_create: unknown option $kv" ;;
		esac
	done
	[[ -z ${PF_DIR[$name]:-} ]] || rw_die "postfix instance exists: $name"
	[[ $profile == submission && $port == 25 ]] && port=587
	pf_require
	rw_ns "$host" >/dev/null || rw_die "pf_create: unknown host $host"
	dir="$RW_TMP/postfix-$name"
	mkdir -p "$dir/queue" "$dir/data"
	chown postfix:postfix "$dir/data"
	PF_DIR[$name]=$dir
	PF_HOST[$name]=$host
	PF_PROFILE[$name]=$profile
	PF_PORT[$name]=$port
	PF_DOMAIN[$name]=$domain
	PF_BLOCK[$name]=$block
	{
		pf_main_cf_common "$name" "$host" "$dir" "$domain" "$relay"
		case $profile in
		mx) pf_profile_mx "$dir" "$domain" ;;
		blocklist) pf_profile_blocklist "$dir" "$domain" "$host" ;;
		openrelay) pf_profile_openrelay ;;
		sink) pf_profile_sink ;;
		submission) pf_profile_submission "$dir" "$name" "$domain" ;;
		*) rw_die "pf_create: unknown profile $profile" ;;
		esac
	} >"$dir/main.cf.new"
	# Later settings win in main.cf; keep the file readable with one line per name.
	awk -F' = ' '{ v[$1] = $0; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
		END { for (i = 1; i <= n; i++) print v[order[i]] }' "$dir/main.cf.new" >"$dir/main.cf"
	rm -f "$dir/main.cf.new"
	pf_master_cf "$port" "" >"$dir/master.cf"
	postconf -c "$dir" -n >/dev/null 2>"$dir/postconf.err" ||
		rw_die "$name: bad main.cf: $(cat "$dir/postconf.err")"
	[[ ! -s $dir/postconf.err ]] || rw_log "$name: postconf: $(head -3 "$dir/postconf.err")"
	if [[ $profile == submission ]]; then
		chgrp postfix "$dir/tls/key.pem"
		rw_require_cmds saslpasswd2
		[[ -n $(find /usr/lib/*/sasl2 -name 'libsasldb*' 2>/dev/null) ]] ||
			rw_skip "Cyrus SASL sasldb plugin missing (libsasl2-modules-db)"
	fi
}

# pf_user NAME USER [PASSWORD]: a mailbox USER@domain (mx, blocklist) or a SASL account
# USER@domain with PASSWORD (submission: log in as USER@domain).
pf_user()
{
	local name=$1 user=$2 pass=${3:-} dir
	dir=$(pf_dir "$name")
	case ${PF_PROFILE[$name]} in
	mx | blocklist)
		echo "$user@${PF_DOMAIN[$name]} ${PF_DOMAIN[$name]}/$user/" >>"$dir/vmailbox"
		;;
	submission)
		[[ -n $pass ]] || rw_die "pf_user $name $user: needs a password"
		printf '%s' "$pass" | saslpasswd2 -p -c -f "$dir/sasl/sasldb2" \
			-u "${PF_DOMAIN[$name]}" "$user" || rw_die "saslpasswd2 $user"
		chown root:postfix "$dir/sasl/sasldb2"
		chmod 640 "$dir/sasl/sasldb2"
		;;
	*) rw_die "pf_user: profile ${PF_PROFILE[$name]} has no users" ;;
	esac
}

# pf_exec NAME CMD...: run in the instance's namespace; a blocklist instance also sees its own
# resolv.conf (bind-mounted in the private mount namespace `ip netns exec` makes: the host's
# file is untouched, and the daemons keep that view).
pf_exec()
{
	local name=$1
	shift
	if [[ ${PF_PROFILE[$name]} == blocklist ]]; then
		# shellcheck disable=SC2016
		rw_exec "${PF_HOST[$name]}" sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' \
			"${PF_DIR[$name]}/resolv.conf" "$@"
	else
		rw_exec "${PF_HOST[$name]}" "$@"
	fi
}

# pf_dnsbl_start NAME: the zone answering for the blocklist instance. Lists block=... or, by
# default, every lab host but the instance's own.
pf_dnsbl_start()
{
	local name=$1 host=${PF_HOST[$1]} dir=${PF_DIR[$1]} ips=${PF_BLOCK[$1]} h
	if [[ -z $ips ]]; then
		for h in "${!RW_V4[@]}"; do
			[[ $h == "$host" ]] || ips+=" ${RW_V4[$h]} ${RW_V6[$h]}"
		done
	fi
	# shellcheck disable=SC2086
	rw_bg "$host" "$dir/dnsbl.log" python3 "$RW_LIB_DIR/clients/dnsbl.py" \
		--listen "$(rw_addr4 "$host")" $ips
	rw_wait 100 pf_dnsbl_up "$host" || rw_die "dnsbl for $name did not start: $(cat "$dir/dnsbl.log")"
}

pf_dnsbl_up()
{
	[[ -n $(rw_exec "$1" ss -Hlun "( sport = :53 )" 2>/dev/null) ]]
}

pf_master_pid()
{
	local f
	f="$(pf_dir "$1")/queue/pid/master.pid"
	[[ -r $f ]] && tr -d ' \n' <"$f"
}

pf_master_alive()
{
	local pid
	pid=$(pf_master_pid "$1") && [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null
}

# pf_start NAME: start the instance in its host's namespace; returns when smtpd's port
# accepts connections (bounded: 20 s).
pf_start()
{
	local name=$1 dir host
	dir=$(pf_dir "$name")
	host=${PF_HOST[$name]}
	if [[ ${#PF_RUNNING[@]} -eq 0 ]]; then
		rw_hook_add pf_stop_all
	fi
	PF_RUNNING[$name]=1
	[[ ${PF_PROFILE[$name]} != blocklist ]] || pf_dnsbl_start "$name"
	if ! pf_exec "$name" postfix -c "$dir" start >"$dir/start.log" 2>&1; then
		cat "$dir/start.log" "$dir/maillog" >&2 2>/dev/null || true
		rw_die "postfix $name did not start"
	fi
	if ! rw_wait 200 rw_listening "$host" "${PF_PORT[$name]}"; then
		cat "$dir/start.log" "$dir/maillog" >&2 2>/dev/null || true
		rw_die "postfix $name: nothing listens on port ${PF_PORT[$name]}"
	fi
	# master listens before smtpd has read its settings: only a greeting proves it works.
	if ! pf_banner "$name" | grep -q '^220 '; then
		tail -20 "$dir/maillog" >&2 2>/dev/null || true
		rw_die "postfix $name: no 220 greeting on port ${PF_PORT[$name]}"
	fi
	rw_log "postfix $name (${PF_PROFILE[$name]}) up on $(rw_addr4 "$host"):${PF_PORT[$name]}"
}

# pf_banner NAME: the greeting line of the instance, read from inside its namespace (5 s max).
pf_banner()
{
	local host=${PF_HOST[$1]} port=${PF_PORT[$1]} addr
	addr=$(rw_addr4 "$host")
	# shellcheck disable=SC2016
	rw_exec "$host" timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1
		IFS= read -r -t 4 line <&3 && printf "%s\n" "$line"
		printf "QUIT\r\n" >&3; IFS= read -r -t 4 line <&3; exit 0' "$addr" "$port" \
		2>/dev/null | tr -d '\r'
}

pf_queue_empty()
{
	local q
	q="$(pf_dir "$1")/queue"
	[[ -z $(find "$q/maildrop" "$q/incoming" "$q/active" "$q/deferred" -type f 2>/dev/null |
		head -1) ]]
}

# pf_wait_idle NAME: bounded (20 s) wait until the queue is empty (everything delivered,
# relayed or discarded). Returns 1 when mail is still queued.
pf_wait_idle()
{
	rw_wait 200 pf_queue_empty "$1" && return 0
	rw_log "postfix $1: queue not empty after 20 s"
	return 1
}

# pf_stop NAME: `postfix stop`, bounded wait for the master, then `postfix abort` and KILL;
# daemons left in the namespace are ended by rw_cleanup.
pf_stop()
{
	local name=$1 dir host pid
	[[ -n ${PF_RUNNING[$name]:-} ]] || return 0
	dir=$(pf_dir "$name")
	host=${PF_HOST[$name]}
	pid=$(pf_master_pid "$name") || pid=""
	timeout 20 ip netns exec "$(rw_ns "$host")" postfix -c "$dir" stop >>"$dir/stop.log" 2>&1 ||
		true
	if ! rw_wait 100 rw_pid_gone_pf "$pid"; then
		rw_log "postfix $name: master $pid still up 10 s after stop: abort"
		timeout 20 ip netns exec "$(rw_ns "$host")" postfix -c "$dir" abort \
			>>"$dir/stop.log" 2>&1 || true
		[[ -z $pid ]] || kill -s KILL "$pid" 2>/dev/null || true
		rw_wait 50 rw_pid_gone_pf "$pid" || rw_log "postfix $name: master $pid survived"
	fi
	unset "PF_RUNNING[$name]"
	return 0
}

rw_pid_gone_pf()
{
	[[ -z $1 ]] || ! kill -0 "$1" 2>/dev/null
}

pf_stop_all()
{
	local name
	for name in "${!PF_RUNNING[@]}"; do
		pf_stop "$name"
	done
}

# pf_log NAME: the instance's log file (postlogd).
pf_log()
{
	echo "$(pf_dir "$1")/maillog"
}
