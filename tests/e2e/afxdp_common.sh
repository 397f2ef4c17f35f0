# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# afxdp_common.sh: what the afxdp_*.sh scenarios share, sourced after lib.sh. A passive tap
# for the sensor: a veth pair rwtap (router) / rwtap-s (namespace "sensor"), with every frame
# in and out of the router ports named mirrored (tc mirred) onto rwtap, so it arrives on
# rwtap-s, where relaywatch --afxdp attaches its XDP program. Starts and stops the sensor
# (PID tracked by lib.sh, every wait bounded) and checks that nothing of ours is left on the
# interface afterwards. Owns: the sensor namespace, the tap pair, the sensor process.
#
#	afx_init TOOL...		# rw_init + what the sensor needs; exit 77 when missing
#	afx_tap_add QUEUES DEV...	# tap with QUEUES RX queues mirroring router ports DEV...
#	afx_sensor_start LOGDIR ARGS...	# relaywatch --afxdp rwtap-s -l LOGDIR ARGS...; waits
#	afx_sensor_stop [SIGNAL]	# default INT; the sensor must exit 0
#	afx_assert_detached		# no XDP on rwtap-s, our program gone from the kernel
#	afx_tx_json FILE		# smtp.json as sorted lines without ts and uid
#	afx_alert_json FILE		# alerts.json the same way, without times and uids

AFX_BIN=${RELAYWATCH:-}
AFX_NS=""
AFX_PID=""
AFX_LOG=""
AFX_PROG_ID=""
AFX_GUARD=""
AFX_TAP=rwtap
AFX_TAP_S=rwtap-s

# afx_init TOOL...: the binary comes from $1 of the test (meson passes it) or $RELAYWATCH.
# shellcheck disable=SC2120 # the tools are optional
afx_init()
{
	rw_init bpftool tc python3 "$@"
	[[ -x $AFX_BIN ]] || rw_skip "no relaywatch binary (pass it as the first argument)"
	# An interface that cannot exist: the sensor stops before touching anything, and a
	# build without AF_XDP says so instead.
	# (It exits non-zero either way: read its words, not a pipeline's status under pipefail.)
	local out
	out=$("$AFX_BIN" --afxdp rw-no-such-if0 -q --report none 2>&1 || true)
	[[ $out != *"not built"* ]] || rw_skip "relaywatch was built without AF_XDP"
}

# afx_tap_add QUEUES DEV...: see the header. Frames sent into rwtap (tcpreplay) also arrive.
afx_tap_add()
{
	local q=$1 dev
	shift
	AFX_NS="$RW_ID-sensor"
	rw_netns_add "$AFX_NS"
	# shellcheck disable=SC2034 # lib.sh's host table: rw_exec/rw_bg sensor
	RW_NS["sensor"]=$AFX_NS
	ip link add name "$AFX_TAP" netns "$RW_ROUTER" numtxqueues "$q" numrxqueues "$q" type veth \
		peer name "$AFX_TAP_S" netns "$AFX_NS" numtxqueues "$q" numrxqueues "$q" ||
		rw_die "tap veth with $q queues"
	rw_rexec ip link set "$AFX_TAP" up || rw_die "$AFX_TAP up"
	ip -n "$AFX_NS" link set "$AFX_TAP_S" up || rw_die "$AFX_TAP_S up"
	for dev in "$@"; do
		rw_rexec tc qdisc replace dev "$dev" clsact || rw_die "clsact on $dev"
		rw_rexec tc filter add dev "$dev" ingress pref 50 protocol all u32 match u32 0 0 \
			action mirred egress mirror dev "$AFX_TAP" continue ||
			rw_die "mirror $dev ingress"
		rw_rexec tc filter add dev "$dev" egress pref 50 protocol all u32 match u32 0 0 \
			action mirred egress mirror dev "$AFX_TAP" continue ||
			rw_die "mirror $dev egress"
	done
}

afx_sensor_ready()
{
	grep -q "capturing: " "$AFX_LOG" || ! kill -0 "$AFX_PID" 2>/dev/null
}

# afx_sensor_start LOGDIR ARGS...: started with -v so the log says when the workers run.
afx_sensor_start()
{
	local dir=$1
	shift
	mkdir -p "$dir"
	AFX_LOG="$dir.log"
	rw_bg sensor "$AFX_LOG" "$AFX_BIN" --afxdp "$AFX_TAP_S" -l "$dir" -v --report none "$@"
	AFX_PID=$RW_LAST_PID
	rw_wait 1200 afx_sensor_ready || rw_die "sensor not capturing after 120 s: $(tail -5 "$AFX_LOG")"
	kill -0 "$AFX_PID" 2>/dev/null || rw_die "sensor exited at start: $(tail -20 "$AFX_LOG")"
	AFX_PROG_ID=$(ip -n "$AFX_NS" -d link show dev "$AFX_TAP_S" |
		sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p' | head -1)
	[[ -n $AFX_PROG_ID ]] || rw_die "no XDP program on $AFX_TAP_S while the sensor runs"
	# The loader's detach guardian: a child named rw-xdp-guard.
	AFX_GUARD=$(pgrep -x -P "$AFX_PID" rw-xdp-guard | head -1 || true)
	[[ -n $AFX_GUARD ]] || rw_die "no detach guardian next to the sensor"
	rw_log "sensor pid $AFX_PID capturing, XDP program id $AFX_PROG_ID"
}

# afx_sensor_stop [SIGNAL]: the sensor flushes and must exit 0 within 120 s (a loaded machine).
afx_sensor_stop()
{
	local sig=${1:-INT} rc=0 i
	kill -s "$sig" "$AFX_PID" 2>/dev/null || rw_die "sensor gone before SIG$sig"
	for ((i = 0; i < 1200; i++)); do
		rw_pid_gone "$AFX_PID" && break
		sleep 0.1
	done
	rw_pid_gone "$AFX_PID" || rw_die "sensor still running 120 s after SIG$sig"
	wait "$AFX_PID" || rc=$?
	[[ $rc == 0 ]] || rw_die "sensor exit status $rc after SIG$sig: $(tail -20 "$AFX_LOG")"
}

afx_xdp_on_tap()
{
	ip -n "$AFX_NS" -d link show dev "$AFX_TAP_S" | grep "prog/xdp" >/dev/null
}

# afx_assert_detached: checked with the kernel's own tools, not the sensor's word.
afx_assert_detached()
{
	! afx_xdp_on_tap || rw_die "XDP still attached to $AFX_TAP_S: $(ip -n "$AFX_NS" -d link show dev "$AFX_TAP_S")"
	if [[ -n $AFX_PROG_ID ]] && bpftool prog show id "$AFX_PROG_ID" >/dev/null 2>&1; then
		rw_die "XDP program $AFX_PROG_ID still loaded: $(bpftool prog show id "$AFX_PROG_ID")"
	fi
	if [[ -n $AFX_GUARD ]] && ! rw_wait 200 afx_pid_gone "$AFX_GUARD"; then
		rw_die "detach guardian $AFX_GUARD left running"
	fi
}

# Not our child once the sensor is gone (init reaps it): kill -0 alone decides.
afx_pid_gone()
{
	! kill -0 "$1" 2>/dev/null
}

# afx_tx_json FILE: what must match between live capture and a capture file of the same
# frames. ts is the capture time (the sensor stamps once per burst, tcpdump per packet) and
# uid hashes the flow with its first packet's time, so both differ; every other field of
# every transaction must be equal.
afx_tx_json()
{
	python3 -c '
import json, sys
rows = []
for line in open(sys.argv[1]):
    if line.strip():
        r = json.loads(line)
        r.pop("ts", None)
        r.pop("uid", None)
        rows.append(json.dumps(r, sort_keys=True, separators=(",", ":")))
print("\n".join(sorted(rows)))' "$1"
}

# afx_alert_json FILE: alerts.json as sorted lines without the times (ts, first_ts: packet
# times, see afx_tx_json) and the flow uids; kind, host, counters, examples, message, score
# and seq must be equal.
afx_alert_json()
{
	python3 -c '
import json, sys
rows = []
for line in open(sys.argv[1]):
    if line.strip():
        r = json.loads(line)
        for k in ("ts", "first_ts", "uids"):
            r.pop(k, None)
        rows.append(json.dumps(r, sort_keys=True, separators=(",", ":")))
print("\n".join(sorted(rows)))' "$1"
}

# afx_stat FILE KEY...: one number from stats.json (KEY path, e.g. xdp redirected).
afx_stat()
{
	python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v)' "$@"
}
