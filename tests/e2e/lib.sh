# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# lib.sh: the real-traffic lab shared by every end-to-end test. Sourced, never run.
# Builds network namespaces named rw-<pid>-* around one ROUTER namespace that forwards
# between "sides" (one bridge per side: clients, servers, a remote network...), starts
# processes inside them and remembers their PIDs, captures traffic on router interfaces
# with tcpdump, and undoes all of it from one trap (EXIT INT TERM). Owns: the namespaces,
# veths, bridges, processes and the temp dir it made, nothing else. Every wait is bounded.
#
# Addresses come only from the documentation prefixes: 192.0.2.0/24, 198.51.100.0/24,
# 203.0.113.0/24 and 2001:db8::/32. Usage (see gen_captures.sh for a full example):
#
#	. "$(dirname "$0")/lib.sh"
#	rw_init tcpdump swaks		# exits 77 (meson SKIP) without root or a tool
#	rw_topo_basic			# sides client + server, hosts "client" and "server"
#	rw_host_add client c2 11	# one more client: 192.0.2.11, 2001:db8:1::11
#	rw_bg client "$RW_TMP/x.log" some-daemon --foreground
#	rw_capture_start br-client "$RW_TMP/x.pcap" 'tcp port 25'
#	rw_exec client swaks ...
#	rw_capture_stop "$RW_TMP/x.pcap"
#	rw_mirror_add tap0 br-client	# a copy of every frame for a sensor on tap0-p

RW_SKIP=77
RW_ID="rw-$$"			# prefix of everything this run creates
RW_TMP=""			# private temp dir, removed by rw_cleanup (unless RW_KEEP=1)
RW_ROUTER=""			# router namespace name
RW_PIDS=()			# background processes we started
RW_NETNS=()			# namespaces we created (router first)
RW_HOOKS=()			# functions rw_cleanup calls first, last registered first
RW_CLEANED=0
RW_WAIT_STEP=${RW_WAIT_STEP:-0.1}	# seconds between polls
RW_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
declare -A RW_NS=()		# host name -> namespace
declare -A RW_V4=() RW_V6=()	# host name -> address
declare -A RW_HOST_SIDE=()	# host name -> side
declare -A RW_SIDE_V4=() RW_SIDE_V6=() RW_SIDE_VLAN=() RW_SIDE_N=()
declare -A RW_CAP_PID=()	# pcap file -> tcpdump pid

rw_log()
{
	printf '[%s %(%T)T] %s\n' "$RW_ID" -1 "$*" >&2
}

rw_die()
{
	rw_log "FAIL: $*"
	exit 1
}

rw_skip()
{
	rw_log "SKIP: $*"
	exit "$RW_SKIP"
}

# rw_wait MAX_TRIES CMD...: run CMD every RW_WAIT_STEP s until it succeeds, at most MAX_TRIES
# times. Returns 0 when it succeeded, 1 when it never did.
rw_wait()
{
	local max=$1 i
	shift
	for ((i = 0; i < max; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep "$RW_WAIT_STEP"
	done
	return 1
}

rw_require_root()
{
	[[ $(id -u) -eq 0 ]] || rw_skip "needs root (network namespaces)"
}

rw_require_cmds()
{
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || rw_skip "missing tool: $c"
	done
}

# rw_init [TOOL...]: checks (root, ip, the tools named), installs the trap, makes the temp
# dir and the router namespace with forwarding on.
rw_init()
{
	rw_require_root
	rw_require_cmds ip ss ping "$@"
	ip netns list >/dev/null 2>&1 || rw_skip "ip netns does not work here"
	trap rw_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	RW_TMP=$(mktemp -d "/tmp/$RW_ID.XXXXXX") || rw_die "mktemp"
	# Daemons that drop privileges (postfix) must be able to walk into it.
	chmod 755 "$RW_TMP"
	RW_ROUTER="$RW_ID-router"
	rw_netns_add "$RW_ROUTER"
	rw_rexec sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 ||
		rw_die "router: sysctl forwarding"
}

rw_netns_add()
{
	ip netns add "$1" || rw_die "ip netns add $1"
	RW_NETNS+=("$1")
	ip -n "$1" link set lo up || rw_die "$1: lo up"
	# No router advertisements or DAD delays: addresses are static and usable at once.
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_ra=0 \
		net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 >/dev/null 2>&1 || true
}

# rw_rexec CMD...: run in the router namespace.
rw_rexec()
{
	ip netns exec "$RW_ROUTER" "$@"
}

# rw_exec HOST CMD...: run in HOST's namespace (HOST "router" = the router).
rw_exec()
{
	local ns
	ns=$(rw_ns "$1") || return 1
	shift
	ip netns exec "$ns" "$@"
}

rw_ns()
{
	if [[ $1 == router ]]; then
		echo "$RW_ROUTER"
	elif [[ -n ${RW_NS[$1]:-} ]]; then
		echo "${RW_NS[$1]}"
	else
		rw_log "unknown host: $1"
		return 1
	fi
}

rw_addr4() { echo "${RW_V4[$1]:?unknown host $1}"; }
rw_addr6() { echo "${RW_V6[$1]:?unknown host $1}"; }

# rw_mac SIDE_INDEX HOST_NUMBER: stable, locally administered MACs make captures reproducible.
rw_mac()
{
	printf '02:72:77:%02x:%02x:%02x' "$1" $(($2 >> 8)) $(($2 & 255))
}

# rw_side_add SIDE V4NET V6NET [VLAN]: a bridge br-SIDE in the router with the router at .1 and
# ::1 of V4NET (a.b.c, /24) and V6NET (2001:db8:x:, /64). With VLAN, every frame on this side's
# links and on br-SIDE carries an 802.1Q tag VLAN (tap br-SIDE to see them).
rw_side_add()
{
	local side=$1 v4=$2 v6=$3 vlan=${4:-} br="br-$1" n
	[[ ${#br} -le 15 ]] || rw_die "side name too long: $side"
	[[ $v4 =~ ^(192\.0\.2|198\.51\.100|203\.0\.113)$ ]] || rw_die "not a documentation prefix: $v4"
	[[ $v6 =~ ^2001:db8: ]] || rw_die "not a documentation prefix: $v6"
	n=${#RW_SIDE_V4[@]}
	rw_rexec ip link add name "$br" type bridge stp_state 0 forward_delay 0 mcast_snooping 0 ||
		rw_die "bridge $br"
	# A fixed bridge MAC: otherwise it changes as ports join and neighbours go stale.
	rw_rexec ip link set "$br" address "$(rw_mac "$n" 1)" up || rw_die "$br up"
	[[ -z $vlan ]] || rw_vlan_attach "$RW_ROUTER" "$br" "$vlan"
	rw_rexec ip addr add "$v4.1/24" dev "$br" || rw_die "$br addr"
	rw_rexec ip -6 addr add "${v6}:1/64" dev "$br" nodad || rw_die "$br addr6"
	RW_SIDE_V4[$side]=$v4
	RW_SIDE_V6[$side]=$v6
	RW_SIDE_VLAN[$side]=$vlan
	RW_SIDE_N[$side]=$n
}

# rw_vlan_attach NS DEV VID: tag every frame DEV sends with VID and untag VID on what it
# receives. Kernels without CONFIG_VLAN_8021Q have no VLAN sub-interfaces, so this is done with
# two tc BPF programs (vlan_tag.bpf.c, built here once per VID). Taps on DEV (tcpdump, AF_XDP)
# see the tagged frames in both directions: tc egress runs before them, tc ingress after.
rw_vlan_attach()
{
	local ns=$1 dev=$2 vid=$3 obj="$RW_TMP/vlan_tag_$3.o"
	if [[ ! -f $obj ]]; then
		rw_require_cmds clang tc
		clang -O2 -target bpf -DRW_VID="$vid" -I"/usr/include/$(uname -m)-linux-gnu" \
			-c "$RW_LIB_DIR/vlan_tag.bpf.c" -o "$obj" 2>"$obj.log" ||
			rw_skip "cannot build vlan_tag.bpf.c: $(head -3 "$obj.log")"
	fi
	ip netns exec "$ns" tc qdisc add dev "$dev" clsact || rw_die "clsact on $dev"
	ip netns exec "$ns" tc filter add dev "$dev" egress pref 10 bpf da obj "$obj" sec tc \
		program vlan_push || rw_die "vlan_push on $dev"
	ip netns exec "$ns" tc filter add dev "$dev" ingress pref 100 bpf da obj "$obj" sec tc \
		program vlan_pop || rw_die "vlan_pop on $dev"
}

# rw_host_add SIDE HOST N: namespace rw-<pid>-HOST on SIDE with addresses V4NET.N and V6NET:N
# (N in 2..254), default routes through the router. Its interface is eth0; the router's end is
# p-HOST on br-SIDE.
rw_host_add()
{
	local side=$1 host=$2 num=$3 ns="$RW_ID-$2" port="p-$2" dev=eth0
	local v4=${RW_SIDE_V4[$side]:-} v6=${RW_SIDE_V6[$side]:-} vlan=${RW_SIDE_VLAN[$side]:-}
	[[ -n $v4 ]] || rw_die "unknown side: $side"
	[[ -z ${RW_NS[$host]:-} && $host != router ]] || rw_die "host exists: $host"
	[[ $num -ge 2 && $num -le 254 ]] || rw_die "host number out of range: $num"
	[[ ${#port} -le 15 ]] || rw_die "host name too long: $host"
	rw_netns_add "$ns"
	# Both ends are made directly in their namespaces: nothing ever appears in the host's.
	ip link add name "$dev" netns "$ns" address "$(rw_mac "${RW_SIDE_N[$side]}" "$num")" type veth \
		peer name "$port" netns "$RW_ROUTER" || rw_die "veth $host"
	rw_rexec ip link set "$port" master "br-$side" up || rw_die "$port up"
	ip -n "$ns" link set "$dev" up || rw_die "$host: $dev up"
	[[ -z $vlan ]] || rw_vlan_attach "$ns" "$dev" "$vlan"
	ip -n "$ns" addr add "$v4.$num/24" dev "$dev" || rw_die "$host addr"
	ip -n "$ns" -6 addr add "${v6}:$(printf '%x' "$num")/64" dev "$dev" nodad ||
		rw_die "$host addr6"
	ip -n "$ns" route add default via "$v4.1" || rw_die "$host route"
	ip -n "$ns" -6 route add default via "${v6}:1" || rw_die "$host route6"
	RW_NS[$host]=$ns
	RW_V4[$host]="$v4.$num"
	RW_V6[$host]="${v6}:$(printf '%x' "$num")"
	RW_HOST_SIDE[$host]=$side
	rw_wait 50 rw_host_ready "$host" || rw_die "$host: no IPv4/IPv6 path to the router"
}

# The router answers on both families (the bridge port is forwarding and neighbours resolve).
rw_host_ready()
{
	local side=${RW_HOST_SIDE[$1]}
	rw_exec "$1" ping -c1 -W1 -q "${RW_SIDE_V4[$side]}.1" &&
		rw_exec "$1" ping -6 -c1 -W1 -q "${RW_SIDE_V6[$side]}:1"
}

# rw_topo_basic: the two-sided lab most tests want: side "client" 192.0.2.0/24 + 2001:db8:1::/64
# with host "client" (.10), side "server" 198.51.100.0/24 + 2001:db8:2::/64 with host "server"
# (.10). More sides and hosts can be added afterwards.
rw_topo_basic()
{
	rw_side_add client 192.0.2 2001:db8:1:
	rw_side_add server 198.51.100 2001:db8:2:
	rw_host_add client client 10
	rw_host_add server server 10
}

# rw_bg HOST LOG CMD...: start CMD in HOST's namespace in the background, output to LOG. Sets
# RW_LAST_PID. `ip netns exec` execs CMD, so the PID is CMD's own.
rw_bg()
{
	local ns log=$2
	ns=$(rw_ns "$1") || rw_die "rw_bg: unknown host $1"
	shift 2
	ip netns exec "$ns" "$@" >"$log" 2>&1 </dev/null &
	RW_LAST_PID=$!
	RW_PIDS+=("$RW_LAST_PID")
}

# rw_stop_pid PID [SIGNAL]: signal one of our processes, wait (bounded) for it, then KILL it.
rw_stop_pid()
{
	local pid=$1 sig=${2:-TERM}
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null || true
		return 0
	fi
	kill -s "$sig" "$pid" 2>/dev/null || true
	if ! rw_wait 50 rw_pid_gone "$pid"; then
		rw_log "pid $pid ignored SIG$sig for 5 s: KILL"
		kill -s KILL "$pid" 2>/dev/null || true
		rw_wait 20 rw_pid_gone "$pid" || rw_log "pid $pid survived KILL"
	fi
	wait "$pid" 2>/dev/null || true
	return 0
}

rw_pid_gone()
{
	# A zombie child of ours counts as gone; `wait` reaps it afterwards.
	! kill -0 "$1" 2>/dev/null && return 0
	[[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) == Z ]]
}

# rw_hook_add FUNC: call FUNC at the start of rw_cleanup (e.g. stop the daemons a helper made).
rw_hook_add()
{
	RW_HOOKS+=("$1")
}

# rw_ns_kill_all NS: whatever still runs in a namespace we made is ours (started in it by us or
# by a daemon we started): TERM, bounded wait, KILL.
rw_ns_kill_all()
{
	local pids i
	for i in 1 2; do
		pids=$(ip netns pids "$1" 2>/dev/null | tr '\n' ' ')
		[[ -z ${pids// /} ]] && return 0
		# shellcheck disable=SC2086
		kill -s "$([[ $i == 1 ]] && echo TERM || echo KILL)" $pids 2>/dev/null
		rw_wait 30 rw_ns_empty "$1" && return 0
	done
	rw_log "processes left in $1: $(ip netns pids "$1" 2>/dev/null | tr '\n' ' ')"
}

rw_ns_empty()
{
	[[ -z $(ip netns pids "$1" 2>/dev/null) ]]
}

rw_cleanup()
{
	local i rc=$?
	[[ $RW_CLEANED == 1 ]] && return "$rc"
	RW_CLEANED=1
	# The caller may run under set -e: a failing kill or wait must not cut the cleanup short.
	set +e
	trap - EXIT INT TERM
	for ((i = ${#RW_HOOKS[@]} - 1; i >= 0; i--)); do
		"${RW_HOOKS[$i]}" || rw_log "cleanup hook ${RW_HOOKS[$i]} failed"
	done
	for i in "${RW_PIDS[@]}"; do
		rw_stop_pid "$i"
	done
	for ((i = ${#RW_NETNS[@]} - 1; i >= 0; i--)); do
		rw_ns_kill_all "${RW_NETNS[$i]}"
	done
	# Veths first (the router's ends take their peers with them), then the namespaces.
	if [[ -n $RW_ROUTER ]]; then
		for i in $(ip -n "$RW_ROUTER" -o link show type veth 2>/dev/null |
			awk -F'[ :@]+' '{print $2}'); do
			ip -n "$RW_ROUTER" link del "$i" 2>/dev/null
		done
	fi
	for ((i = ${#RW_NETNS[@]} - 1; i >= 0; i--)); do
		ip netns del "${RW_NETNS[$i]}" 2>/dev/null || rw_log "could not delete ${RW_NETNS[$i]}"
	done
	if [[ -n $RW_TMP && -d $RW_TMP ]]; then
		if [[ ${RW_KEEP:-0} == 1 ]]; then
			rw_log "RW_KEEP=1: kept $RW_TMP"
		else
			rm -rf "$RW_TMP"
		fi
	fi
	return "$rc"
}

# ---- capture -----------------------------------------------------------------------------

# rw_capture_start IFACE FILE [FILTER]: tcpdump on a router interface: whole frames (-s 0),
# each packet written at once (-U), no batching in the kernel ring (--immediate-mode: TPACKET_V3
# otherwise holds packets up to 1 s, and a capture stopped within that second loses them), no
# privilege drop (tcpdump's user could not write into $RW_TMP). RW_CAPTURE_BUFFER_KIB sets the
# kernel buffer (-B): on a busy machine tcpdump is not scheduled often enough for the default
# 2 MiB to hold a burst. Returns once tcpdump says it is listening: the socket is bound, and
# anything sent from then on is seen.
rw_capture_start()
{
	local dev=$1 file=$2 filter=${3:-} pid
	rm -f "$file" "$file.log"
	# shellcheck disable=SC2086
	ip netns exec "$RW_ROUTER" tcpdump -i "$dev" -s 0 -U --immediate-mode -n -Z root \
		${RW_CAPTURE_BUFFER_KIB:+-B "$RW_CAPTURE_BUFFER_KIB"} -w "$file" ${filter:+"$filter"} \
		>"$file.log" 2>&1 </dev/null &
	pid=$!
	RW_PIDS+=("$pid")
	RW_CAP_PID[$file]=$pid
	if ! rw_wait 100 grep -q "listening on" "$file.log"; then
		cat "$file.log" >&2
		rw_die "tcpdump on $dev did not start"
	fi
	kill -0 "$pid" 2>/dev/null || rw_die "tcpdump on $dev exited: $(cat "$file.log")"
}

# rw_capture_settle FILE: wait until the file stopped growing for 3 polls (at most 5 s), so the
# last FIN/ACK of a conversation that just ended is in it.
rw_capture_settle()
{
	local file=$1 last=-1 size same=0 i
	for ((i = 0; i < 50 && same < 3; i++)); do
		size=$(stat -c %s "$file" 2>/dev/null || echo 0)
		if [[ $size == "$last" ]]; then
			same=$((same + 1))
		else
			same=0
		fi
		last=$size
		sleep "$RW_WAIT_STEP"
	done
}

# rw_capture_stop FILE: SIGTERM tcpdump (it flushes and writes its counters; SIGINT is ignored
# by background jobs of a non-interactive shell), check that the
# kernel dropped nothing and that every captured packet can be read back from the file.
rw_capture_stop()
{
	local file=$1 pid=${RW_CAP_PID[$1]:-} got read
	[[ -n $pid ]] || rw_die "no capture running for $file"
	rw_capture_settle "$file"
	rw_stop_pid "$pid" TERM
	unset "RW_CAP_PID[$file]"
	got=$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured$/\1/p' "$file.log")
	[[ -n $got ]] || rw_die "tcpdump gave no counters: $(cat "$file.log")"
	grep -q '^0 packets dropped by kernel' "$file.log" ||
		rw_die "tcpdump dropped packets: $(cat "$file.log")"
	# capinfos fails on a file cut short in the middle of a packet.
	if command -v capinfos >/dev/null 2>&1; then
		read=$(capinfos -c -M "$file" 2>&1) || rw_die "$file: unreadable: $read"
		read=$(sed -n 's/^Number of packets: *//p' <<<"$read")
		[[ $read == "$got" ]] || rw_die "$file: tcpdump captured $got, file holds $read"
	fi
	rw_log "captured $got packets in $file"
}

# rw_mirror_add NAME IFACE...: a passive tap port for sensors (AF_XDP, DPDK, live pcap): a
# veth pair NAME/NAME-p in the router; every frame in and out of each IFACE is copied (tc
# mirred) to NAME, so it arrives on NAME-p. Forwarding is not touched.
rw_mirror_add()
{
	local name=$1 dev
	shift
	rw_rexec ip link add "$name" type veth peer name "$name-p" || rw_die "veth $name"
	rw_rexec ip link set "$name" up || rw_die "$name up"
	rw_rexec ip link set "$name-p" up || rw_die "$name-p up"
	for dev in "$@"; do
		rw_rexec tc qdisc replace dev "$dev" clsact || rw_die "clsact on $dev"
		# u32 "match anything": matchall is not built into every kernel.
		rw_rexec tc filter add dev "$dev" ingress pref 50 protocol all u32 match u32 0 0 \
			action mirred egress mirror dev "$name" continue || rw_die "mirror $dev ingress"
		rw_rexec tc filter add dev "$dev" egress pref 50 protocol all u32 match u32 0 0 \
			action mirred egress mirror dev "$name" continue || rw_die "mirror $dev egress"
	done
}

# rw_tcp_idle HOST PORT: no connection to or from PORT left in HOST except TIME-WAIT.
rw_tcp_idle()
{
	[[ -z $(rw_exec "$1" ss -Htn state syn-sent state syn-recv state established \
		state fin-wait-1 state fin-wait-2 state close-wait state last-ack state closing \
		"( sport = :$2 or dport = :$2 )" 2>/dev/null) ]]
}

# rw_wait_tcp_idle HOST PORT: bounded (10 s) wait for rw_tcp_idle.
rw_wait_tcp_idle()
{
	rw_wait 100 rw_tcp_idle "$1" "$2" || rw_log "$1: connections on port $2 still open"
}

# rw_wait_listen HOST PORT: bounded (10 s) wait until something listens on PORT in HOST.
rw_wait_listen()
{
	rw_wait 100 rw_listening "$1" "$2"
}

rw_listening()
{
	[[ -n $(rw_exec "$1" ss -Hltn "( sport = :$2 )" 2>/dev/null) ]]
}
