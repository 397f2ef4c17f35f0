#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The capture sources', the exporters' and the collector's user-visible errors, once each:
# relaywatch with DPDK (--no-huge vdevs), AF_XDP (in a namespace made here), spool and
# collector TLS files; relaywatch-collector with bad --listen, --db, --kafka, --alertmanager
# and SQLite files it cannot use. Each row: the exact text on stderr and the exit code. The
# rest is in tests/unit/test_msgs_io.c (what the command line cannot reach). A row whose
# tool is missing (DPDK, AF_XDP, root) is skipped, said so, and not failed.
#
# usage: messages_io.sh RELAYWATCH RELAYWATCH-COLLECTOR
#
# Not triggered by a test, and why (each fragment as messages_coverage.py looks for it):
#  - A few bytes, a ring, an fd or a thread that cannot be had: eventfd, getrandom and
#    pthread_create do not fail on demand, and an address-space limit (as for the preload
#    row below) that fails exactly one small start-up allocation and not an earlier one
#    depends on the build's libraries:
#      "afxdp: no memory"                 "pcap: no memory for read blocks"
#      "pcap: no memory for read buffers" ": fopencookie failed"
#      "steer: no memory for rings"       "steer: cannot start thread:"
#      "spool: out of memory"             "collector: out of memory"
#      "collector: eventfd:"              "collector: getrandom:"
#      "collector: cannot start the exporter thread:"
#      "metrics: out of memory"           "store: out of memory for acks"
#      "tls: cannot create a context"     "collector: cannot create a TLS context"
#  - "kafka: %s" (rd_kafka_new fails only on a conf that conf_set refused before) and
#    "kafka: %s=%s: %s" (bootstrap.servers takes any string; the other values are constants).
#  - ": cannot read:" (spool): list_segments fails only if dup()/fdopendir() of the
#    directory fd just opened fails.
#  - ": cannot begin the migration": a deferred BEGIN fails only inside a transaction,
#    and store_open never is in one.
#  - "store: sqlite: statement wants": a programming error (every statement is a literal).
#  - DPDK, no vdev (null, pcap, ring) fails these once probed; a real NIC can:
#      ": info_get:"  "): configure"  ": descriptors:"  ": TX queue:"
#      "dpdk: port" (RX queue %u: %s; start: %s)
#  - AF_XDP:
#      ": cannot bind an AF_XDP socket:"  copy mode binds on any device the checks pass
#      ": busy polling:"                  kernels before 5.11 only
#      "afxdp: fill ring smaller than the UMEM"  the fill ring is made as large as the UMEM
#      ": cannot register in smtp_xsks:"  our own map, made with a slot per queue
set -uo pipefail

rw=${1:?usage: messages_io.sh RELAYWATCH RELAYWATCH-COLLECTOR}
col=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
P="$here/../captures/pipelining.pcap" # a good capture
NS=""
failed=0
rows=0
skipped=0

cleanup()
{
	[[ -n $NS ]] && ip netns delete "$NS" 2>/dev/null
	rm -rf "$T"
}
T=$(mktemp -d /tmp/relaywatch-messages-io.XXXXXX)
chmod 755 "$T"
trap cleanup EXIT

# matches TEXT MSG: TEXT holds MSG, where "..." in MSG stands for any text.
matches()
{
	local text=$1 msg=$2 head
	while [[ $msg == *...* ]]; do
		head=${msg%%...*}
		[[ $text == *"$head"* ]] || return 1
		text=${text#*"$head"}
		msg=${msg#*...}
	done
	[[ $text == *"$msg"* ]]
}

# run CODE PREFIX MSG CMD...: CMD exits CODE and its stderr says PREFIX MSG.
run()
{
	local code=$1 msg="$2$3" rc
	shift 3
	rows=$((rows + 1))
	timeout 60 "$@" >"$T/stdout" 2>"$T/stderr" </dev/null
	rc=$?
	if [[ $rc -ne $code ]] || ! matches "$(cat "$T/stderr")" "$msg"; then
		echo "FAIL [$rc, want $code] ${*:1:12}"
		echo "     want: $msg"
		sed 's/^/     got:  /' "$T/stderr" | tail -n 5
		failed=$((failed + 1))
		return
	fi
	echo "ok   [$code] $msg"
}

# expect CODE MSG ARGS...: relaywatch ARGS; expect_c CODE MSG ARGS...: the collector.
expect() { run "$1" 'relaywatch: error: ' "$2" "$rw" -q --report none "${@:3}"; }
expect_c() { run "$1" 'relaywatch-collector: ' "$2" "$col" "${@:3}"; }

skip()
{
	echo "skip $*"
	skipped=$((skipped + 1))
}

# ---- DPDK (EAL without hugepages or PCI; 69 unavailable, 66 no input) ----
EAL=(-l 0-1 --no-huge -m 512 --no-pci --no-shconf --no-telemetry --log-level '*:error')
libs=$(ldd "$rw" 2>/dev/null)
if [[ $(id -u) -ne 0 || $libs != *librte_ethdev* ]]; then
	skip "DPDK rows: not root or relaywatch built without DPDK"
else
	expect 69 '--dpdk: the EAL arguments follow "--" (e.g. -l 0-1 --no-huge -m 512 --no-pci --vdev net_pcap0,rx_pcap=FILE)' \
		--dpdk
	expect 69 'dpdk: EAL initialisation failed: Invalid argument (arguments after "--")' \
		--dpdk -- --no-such-eal-option
	expect 66 'dpdk: the EAL found no port (give --vdev, or bind a NIC to a DPDK driver)' \
		--dpdk -- "${EAL[@]}"
	expect 66 "dpdk: 1 --vdev given, 0 probed (see the EAL's messages above)" \
		--dpdk -- "${EAL[@]}" --vdev "net_pcap0,rx_pcap=$T/none.pcap"
	expect 66 "dpdk: 2 --vdev given, 1 probed (see the EAL's messages above)" \
		--dpdk -- "${EAL[@]}" --vdev net_null0 --vdev "net_pcap1,rx_pcap=$T/none.pcap"
	v=()
	for i in $(seq 0 16); do v+=(--vdev "net_null$i"); done
	expect 69 'dpdk: more than 16 ports' --dpdk -- "${EAL[@]}" "${v[@]}"
	# net_pcap: one RX queue per rx_pcap, at most 16 a port; 5 x 14 > 64
	v=()
	for p in 0 1 2 3 4; do
		a="net_pcap$p"
		for i in $(seq 14); do a+=",rx_pcap=$P"; done
		v+=(--vdev "$a")
	done
	expect 69 'dpdk: more than 64 RX queues over all ports' --dpdk -- "${EAL[@]}" "${v[@]}"
	expect 69 'dpdk: no memory for ... mbufs on socket 0: Cannot allocate memory (give the EAL more with -m)' \
		--dpdk -- "${EAL[@]/512/8}" --vdev net_null0
fi

# ---- AF_XDP (a namespace of our own: its loopback; 69, 66) ----
if [[ $libs == *libxdp* ]]; then
	expect 69 "afxdp: interface name 'an-interface-name-too-long' is empty or longer than 15 characters" \
		--afxdp an-interface-name-too-long
fi
if [[ $(id -u) -ne 0 || $libs != *libxdp* ]]; then
	skip "AF_XDP rows: not root or relaywatch built without AF_XDP"
elif ! ip netns add "rw-msgio-$$" 2>/dev/null; then
	skip "AF_XDP rows: cannot make a network namespace"
else
	NS="rw-msgio-$$"
	ip -n "$NS" link set lo up
	run 69 'relaywatch: error: ' 'afxdp: lo queue 0: zero-copy bind refused: ... (the driver may not support it; try --bind copy)' \
		ip netns exec "$NS" "$rw" -q --report none --afxdp lo --bind zero-copy --xdp-mode generic
	run 69 'relaywatch: error: ' 'afxdp: lo has 1 RX queues, 2 asked' \
		ip netns exec "$NS" "$rw" -q --report none --afxdp lo --queues 2 --xdp-mode generic
fi

# ---- capture files (65 data error) ----
gzip -cn "$P" | head -c 200 >"$T/cut.pcap.gz"
expect 65 "$T/cut.pcap.gz: compressed stream: unexpected end of file" -r "$T/cut.pcap.gz"
# 4M empty records in a sparse file: their index alone outgrows a 128 MiB address space
# (which the sanitizers' shadow memory could not live in)
head -c 24 "$P" >"$T/sparse.pcap"
truncate -s 64M "$T/sparse.pcap"
if [[ $libs == *libasan* ]]; then
	skip "preload out of memory: a sanitizer build cannot run under ulimit -v"
else
	run 65 'relaywatch: error: ' "$T/sparse.pcap: not enough memory to preload the capture" \
		bash -c 'ulimit -v 131072 && exec "$@"' - "$rw" -q --report none -r "$T/sparse.pcap" \
		--preload
fi
rm -f "$T/sparse.pcap"

# ---- spool and collector client (78 configuration) ----
C=(-r "$P" --collector 127.0.0.1:9 --collector-plaintext)
expect 78 "spool $T/none/spool: cannot create: No such file or directory" \
	"${C[@]}" --spool "$T/none/spool"
: >"$T/file"
expect 78 "spool $T/file: cannot open: Not a directory" "${C[@]}" --spool "$T/file"
mkdir -p "$T/lockdir/lock"
expect 78 "spool $T/lockdir: cannot create the lock file: Is a directory" \
	"${C[@]}" --spool "$T/lockdir"
mkdir "$T/held"
echo 4242 >"$T/held/lock"
exec 9<"$T/held/lock"
flock -n 9
expect 78 "spool $T/held: in use by another relaywatch process (pid 4242)" \
	"${C[@]}" --spool "$T/held"
exec 9<&-
# root may write anywhere: the sensor runs as nobody on a directory of root's
mkdir -m 755 "$T/rootonly"
nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
if [[ $(id -u) -eq 0 ]] && command -v setpriv >/dev/null &&
	"${nobody[@]}" test -x "$rw" -a -r "$P" 2>/dev/null; then
	run 78 'relaywatch: error: ' "spool $T/rootonly: not writable" \
		"${nobody[@]}" "$rw" -q --report none "${C[@]}" --spool "$T/rootonly"
else
	skip "spool not writable: needs root, setpriv, and a binary and capture nobody can read"
fi
K=(-r "$P" --collector 127.0.0.1:9)

# ---- collector TLS files (the sensor's side) ----
if command -v openssl >/dev/null; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=msgs-io -keyout "$T/k.pem" -out "$T/c.pem" >/dev/null 2>&1
	echo 'not a PEM file' >"$T/junk.pem"
	expect 78 "collector TLS key $T/junk.pem: cannot load: ..." \
		"${K[@]}" --tls-cert "$T/c.pem" --tls-key "$T/junk.pem" --tls-ca "$T/c.pem"
	expect 78 "collector TLS CA file $T/junk.pem: cannot load: ..." \
		"${K[@]}" --tls-cert "$T/c.pem" --tls-key "$T/k.pem" --tls-ca "$T/junk.pem"
else
	skip "collector TLS rows: no openssl"
fi

# ---- relaywatch-collector (69 unavailable) ----
if [[ -z $col || ! -x $col ]]; then
	skip "collector rows: no relaywatch-collector"
else
	S=(serve --plaintext --http none)
	expect_c 69 "--listen: want HOST:PORT, got 'nowhere'" "${S[@]}" --listen nowhere \
		--db "sqlite:$T/a.db"
	expect_c 69 "--listen: cannot resolve 'no-such-host.invalid'" "${S[@]}" \
		--listen no-such-host.invalid:2525 --db "sqlite:$T/a.db"
	# an address no interface here has (TEST-NET-1)
	expect_c 69 '--listen: cannot listen on 192.0.2.1:2525: Cannot assign requested address' \
		"${S[@]}" --listen 192.0.2.1:2525 --db "sqlite:$T/a.db"
	L=("${S[@]}" --listen 127.0.0.1:0)
	expect_c 69 "--alertmanager: '/' is not an http:// or https:// URL such as http://127.0.0.1:9093" \
		"${L[@]}" --db "sqlite:$T/a.db" --alertmanager /
	expect_c 69 "--alertmanager: 'ftp://192.0.2.1/' is not an http:// or https:// URL such as http://127.0.0.1:9093" \
		"${L[@]}" --db "sqlite:$T/a.db" --alertmanager ftp://192.0.2.1/
	expect_c 69 '--kafka: no brokers' "${L[@]}" --db "sqlite:$T/a.db" --kafka ''
	expect_c 69 'store: no database given (--db)' "${L[@]}" --db ''
	expect_c 69 'store: sqlite: without a path' "${L[@]}" --db sqlite:
	expect_c 69 "store: cannot open sqlite database $T/none/a.db: unable to open database file" \
		"${L[@]}" --db "sqlite:$T/none/a.db"
	# a port nothing listens on: bound, then closed
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	expect_c 69 'store: cannot connect to postgresql: ...Connection refused' \
		"${L[@]}" --db "postgresql://127.0.0.1:$port/relaywatch?connect_timeout=5"
	python3 - "$T" <<'EOF'
import sqlite3, sys
t = sys.argv[1]
c = sqlite3.connect(t + "/v0.db")         # schema_version, but no migration done
c.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
c.commit()
c = sqlite3.connect(t + "/other.db")      # someone else's database
c.execute("CREATE TABLE alerts (x)")
c.commit()
c = sqlite3.connect(t + "/index.db")      # the name taken by an index
c.execute("CREATE TABLE t (x)")
c.execute("CREATE INDEX schema_version ON t (x)")
c.commit()
EOF
	expect_c 69 "store $T/v0.db: database schema 0, want ...: run serve first" report --db "sqlite:$T/v0.db"
	expect_c 69 "warning: store: sqlite: table alerts already exists...relaywatch-collector: store $T/other.db: migration failed" \
		"${L[@]}" --db "sqlite:$T/other.db"
	expect_c 69 "warning: store: sqlite: there is already an index named schema_version...relaywatch-collector: store $T/index.db: cannot create schema_version" \
		"${L[@]}" --db "sqlite:$T/index.db"
fi

echo "messages_io: $rows rows, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
