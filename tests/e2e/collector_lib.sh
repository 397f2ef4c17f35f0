# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# collector_lib.sh: what the collector's end-to-end tests share. Sourced, never run.
# Everything stays on 127.0.0.1 in a private temp dir: processes started here are
# remembered by PID and stopped, the temp dir removed, from one trap (EXIT INT TERM).
# Every wait is bounded. Usage:
#
#	. "$(dirname "$0")/collector_lib.sh"
#	cl_init "$1" openssl		# $1: the relaywatch-collector binary; exit 77 without a tool
#	cl_certs			# CA, collector, sensor-a, sensor-b, a rogue CA's sensor-a
#	cl_start --db "sqlite:$CL_TMP/c.db" "${CL_TLS_SERVER[@]}"	# sets CL_PORT, CL_HTTP
#	cl_client send "127.0.0.1:$CL_PORT" --tls "${CL_TLS_A[@]}" --alerts 5
#	cl_metric 'relaywatch_collector_frames_total{type="alert"}'

CL_SKIP=77
CL_BIN=""
CL_TMP=""
CL_PIDS=()
CL_PID=""		# the collector started last
CL_PORT=""		# its sensor port
CL_HTTP=""		# its HTTP port
CL_LOG=""
CL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The system python starts in 0.1 s; a pyenv shim can take seconds.
CL_PY=$(command -v /usr/bin/python3 || command -v python3 || true)

cl_log()
{
	printf '[collector-e2e %(%T)T] %s\n' -1 "$*" >&2
}

cl_die()
{
	cl_log "FAIL: $*"
	if [[ -n $CL_LOG && -f $CL_LOG ]]; then
		cl_log "last lines of $CL_LOG:"
		tail -n 30 "$CL_LOG" >&2
	fi
	exit 1
}

cl_skip()
{
	cl_log "SKIP: $*"
	exit "$CL_SKIP"
}

# cl_wait TRIES CMD...: CMD every 0.1 s until it succeeds, at most TRIES times.
cl_wait()
{
	local max=$1 i
	shift
	for ((i = 0; i < max; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

cl_cleanup()
{
	local p
	for p in "${CL_PIDS[@]}"; do
		cl_stop "$p"
	done
	if [[ -n $CL_TMP && -d $CL_TMP && ${CL_KEEP:-0} != 1 ]]; then
		rm -rf "$CL_TMP"
	fi
}

cl_init()
{
	local c
	CL_BIN=$1
	shift
	[[ -x $CL_BIN ]] || cl_skip "no collector binary: $CL_BIN"
	for c in python3 curl "$@"; do
		command -v "$c" >/dev/null 2>&1 || cl_skip "missing tool: $c"
	done
	CL_TMP=$(mktemp -d /tmp/rw-collector-e2e.XXXXXX)
	chmod 755 "$CL_TMP"
	trap cl_cleanup EXIT
	trap 'exit 1' INT TERM
}

# cl_bg LOG CMD...: start CMD (a program, not a shell function: $! must be its PID)
# in the background, output to LOG; sets CL_BG_PID.
cl_bg()
{
	local log=$1
	shift
	"$@" >"$log" 2>&1 &
	CL_BG_PID=$!
	CL_PIDS+=("$CL_BG_PID")
}

# cl_stop PID: TERM, up to 10 s, then KILL; only processes we started.
cl_stop()
{
	local pid=$1
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	cl_wait 100 cl_gone "$pid" || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || true
}

cl_gone()
{
	! kill -0 "$1" 2>/dev/null
}

cl_free_port()
{
	"$CL_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# cl_certs: a CA and certificates signed by it (collector; sensor-a with a DNS SAN;
# sensor-b with a CN only), and a rogue CA's certificate that also says sensor-a.
cl_certs()
{
	local d=$CL_TMP/pki n
	mkdir -p "$d"
	(
		cd "$d" || exit 1
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-subj /CN=relaywatch-test-ca -keyout ca.key -out ca.crt
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-subj /CN=rogue-ca -keyout rogue-ca.key -out rogue-ca.crt
		for n in collector sensor-a sensor-b rogue; do
			openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
				-subj "/CN=${n/rogue/sensor-a}" -keyout $n.key -out $n.csr
		done
		printf 'subjectAltName=DNS:collector,IP:127.0.0.1\n' >collector.ext
		printf 'subjectAltName=DNS:sensor-a\nextendedKeyUsage=clientAuth\n' >sensor-a.ext
		printf 'extendedKeyUsage=clientAuth\n' >sensor-b.ext
		cp sensor-a.ext rogue.ext
		for n in collector sensor-a sensor-b; do
			openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
				-days 2 -extfile $n.ext -out $n.crt
		done
		openssl x509 -req -in rogue.csr -CA rogue-ca.crt -CAkey rogue-ca.key \
			-CAcreateserial -days 2 -extfile rogue.ext -out rogue.crt
	) >"$CL_TMP/pki.log" 2>&1 || cl_die "openssl could not make the test certificates"
	CL_TLS_SERVER=(--tls-cert "$d/collector.crt" --tls-key "$d/collector.key" --tls-ca "$d/ca.crt")
	CL_TLS_A=("$d/sensor-a.crt" "$d/sensor-a.key" "$d/ca.crt")
	CL_TLS_B=("$d/sensor-b.crt" "$d/sensor-b.key" "$d/ca.crt")
	CL_TLS_ROGUE=("$d/rogue.crt" "$d/rogue.key" "$d/ca.crt")
}

# cl_unprivileged: from here on the collector runs as nobody, with no capability at all
# (it never needs root): a copy of the binary and the work directory (certificates,
# database) are made its own, so no parent directory has to let nobody in.
CL_RUN_AS=()
cl_unprivileged()
{
	[[ $(id -u) -eq 0 ]] || return 0 # not root: it is unprivileged already
	command -v setpriv >/dev/null || cl_skip "missing tool: setpriv"
	mkdir -p "$CL_TMP/bin"
	cp "$CL_BIN" "$CL_TMP/bin/" || cl_die "cannot copy $CL_BIN"
	CL_BIN=$CL_TMP/bin/$(basename "$CL_BIN")
	chown -R nobody:nogroup "$CL_TMP" || cl_die "cannot give $CL_TMP to nobody"
	CL_RUN_AS=(setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all
		--bounding-set=-all --no-new-privs)
}

# cl_assert_unprivileged PID: the process runs as nobody with no effective capability.
cl_assert_unprivileged()
{
	local st=/proc/$1/status
	[[ $(awk '/^Uid:/ {print $2 $3 $4 $5}' "$st") == 65534655346553465534 ]] ||
		cl_die "collector $1 does not run as nobody: $(grep '^Uid:' "$st")"
	[[ $(awk '/^CapEff:/ {print $2}' "$st") == 0000000000000000 ]] ||
		cl_die "collector $1 holds capabilities: $(grep '^Cap' "$st")"
}

cl_listening()
{
	grep -q 'listening for sensors on port' "$CL_LOG"
}

# cl_start ARGS...: the collector on 127.0.0.1 with kernel-chosen ports; sets CL_PID,
# CL_PORT, CL_HTTP (read back from its log line).
cl_start()
{
	CL_LOG=$CL_TMP/collector.$((${#CL_PIDS[@]} + 1)).log
	cl_bg "$CL_LOG" "${CL_RUN_AS[@]}" "$CL_BIN" serve --listen 127.0.0.1:0 --http 127.0.0.1:0 "$@"
	CL_PID=$CL_BG_PID
	cl_wait 100 cl_listening || cl_die "the collector did not start"
	CL_PORT=$(sed -n 's/.*listening for sensors on port \([0-9]*\).*/\1/p' "$CL_LOG")
	CL_HTTP=$(sed -n 's/.*HTTP on port \([0-9]*\).*/\1/p' "$CL_LOG")
	cl_log "collector $CL_PID: sensors on $CL_PORT, HTTP on $CL_HTTP"
}

cl_client()
{
	"$CL_PY" "$CL_DIR/collector_client.py" "$@"
}

# cl_client_bg LOG ARGS...: the client in the background; CL_BG_PID is python itself
# (not a subshell), so stopping it stops the sending.
cl_client_bg()
{
	local log=$1
	shift
	cl_bg "$log" "$CL_PY" "$CL_DIR/collector_client.py" "$@"
}

# cl_json KEY: a top-level key of the one-line JSON on stdin.
cl_json()
{
	"$CL_PY" -c 'import json,sys; v=json.loads(sys.stdin.read()).get(sys.argv[1]); print(json.dumps(v) if isinstance(v,(dict,list,bool)) or v is None else v)' "$1"
}

# cl_metric SERIES: its value in the collector's /metrics (0 when absent).
cl_metric()
{
	curl -sf "http://127.0.0.1:$CL_HTTP/metrics" |
		awk -v s="$1" '$1 == s { v = $2 } END { print (v == "" ? 0 : v) }'
}

cl_metric_ge()
{
	local v
	v=$(cl_metric "$1")
	awk -v v="$v" -v m="$2" 'BEGIN { exit !(v + 0 >= m + 0) }'
}

# ---- PostgreSQL for the tests that run on both backends ----

CL_PG_BIN=/usr/lib/postgresql/15/bin
CL_PG_AS=()
CL_PG_DIR=""

cl_pg_stop()
{
	[[ -n $CL_PG_DIR ]] || return 0
	"${CL_PG_AS[@]}" "$CL_PG_BIN/pg_ctl" -D "$CL_PG_DIR/data" -m immediate stop >/dev/null 2>&1
	CL_PG_DIR=""
}

# cl_pg_start: a PostgreSQL of our own on a Unix socket in CL_TMP; sets CL_PG_URI.
# Returns 1 when PostgreSQL is not installed or will not start.
cl_pg_start()
{
	local port
	[[ -x $CL_PG_BIN/initdb ]] || return 1
	CL_PG_DIR=$CL_TMP/pg
	mkdir -p "$CL_PG_DIR"
	if [[ $(id -u) -eq 0 ]]; then
		id postgres >/dev/null 2>&1 || return 1
		chown postgres "$CL_PG_DIR"
		CL_PG_AS=(runuser -u postgres --)
	fi
	port=$(cl_free_port)
	"${CL_PG_AS[@]}" "$CL_PG_BIN/initdb" -D "$CL_PG_DIR/data" -A trust -U postgres \
		>"$CL_TMP/initdb.log" 2>&1 || return 1
	"${CL_PG_AS[@]}" "$CL_PG_BIN/pg_ctl" -D "$CL_PG_DIR/data" -w -t 60 \
		-l "$CL_PG_DIR/server.log" \
		-o "-k $CL_PG_DIR -p $port -c listen_addresses=''" start >/dev/null 2>&1 || return 1
	CL_PG_URI="postgresql:///postgres?host=$CL_PG_DIR&port=$port&user=postgres"
	CL_PG_PSQL=("${CL_PG_AS[@]}" "$CL_PG_BIN/psql" -qAt -h "$CL_PG_DIR" -p "$port" -U postgres
		-d postgres)
	trap 'cl_pg_stop; cl_cleanup' EXIT
	return 0
}
