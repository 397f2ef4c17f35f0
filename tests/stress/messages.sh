#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Every error a user of the sensor can see from its command line, its
# configuration file and its capture handling, once each: the exact text on
# stderr and the exit code (sysexits: 64 usage, 65 data error, 66 no input,
# 78 configuration). One row per message; a message that changes wording or
# exit code fails here, on purpose.
#
# Messages of sensor/ checked elsewhere: tests/unit/test_config_errors.c (config_validate
# on a struct no file can produce), test_sigs.c (rules directories), test_privdrop.c
# (keep lists main never passes).
#
# Not triggered by a test, and why:
# - malloc/calloc of a few bytes to a few MiB failing (no test can make that
#   happen without starving the machine): "no memory for the configuration",
#   "worker %u: no memory for the event ring", "no memory for alert formatting",
#   "no memory for the XDP counter ring", "privacy: out of memory",
#   "signatures: out of memory", "signatures: cannot allocate scratch",
#   "seccomp: cannot make a filter", config.c's and sigs_file.c's "%s: out of
#   memory" and "%s:%u: out of memory"; and "worker %u: SMTP context: %s",
#   "detection engine: %s", whose only error left after config_validate is ENOMEM.
# - "detector: too many inputs": one input per worker, at most 64 of both (a
#   _Static_assert in main_output.c); "metrics: worker %u: %s": main adds at most 64
#   workers, before the server starts, so neither ENOSPC nor EBUSY.
# - "unknown option (see --help)": the fallback of cli.c's switch; getopt returns
#   only options that have a case, the others stop earlier ("-Z: unknown option").
# - "%s capture was not built into this binary": only a build configured with
#   -Ddpdk=disabled or -Dafxdp=disabled; the suites run the full build.
# - "--user %s: no_new_privs: %s": prctl(PR_SET_NO_NEW_PRIVS, 1) fails only for bad
#   arguments. "seccomp: cannot build the filter: %s",
#   "seccomp: cannot install the filter: %s": the rules are fixed at build time
#   (unknown names are skipped), libseccomp sets no_new_privs itself, and no
#   thread has another filter.
# - "%s rules: Hyperscan: %s": a compile error that names no expression; Hyperscan
#   names one for every pattern error (tested), the rest are its internal errors.
# - every x86-64 CPU these tests run on has SSSE3: "signatures: Hyperscan %s
#   needs a CPU with SSSE3 and this one lacks it; content signatures are off".
# - sigs_file.c's "%s: read failed: %s" (read() failing on an open regular file:
#   a disk error; the short read is tested) and "%s: cannot open: %s" for a
#   directory (opendir() right after stat() said it is one; as root only a race).
#
# usage: messages.sh RELAYWATCH
set -uo pipefail

rw=${1:?usage: messages.sh RELAYWATCH}
here=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/relaywatch-messages.XXXXXX)
trap 'rm -rf "$T"' EXIT
P="$here/../captures/pipelining.pcap" # a good capture
failed=0
rows=0
wrap=() # a command expect() runs relaywatch under (setpriv, prlimit)

# expect EXIT 'MESSAGE' ARGS...: relaywatch ARGS exits EXIT and says
# "relaywatch: error: MESSAGE" on stderr; "..." in MESSAGE stands for any text
# (what libpcap or libyaml add), the rest is compared as written.
expect() {
	local code=$1 msg=$2 rc text pat=''
	shift 2
	rows=$((rows + 1))
	timeout 60 "${wrap[@]}" "$rw" -q --report none "$@" >"$T/stdout" 2>"$T/stderr"
	rc=$?
	text=$(cat "$T/stderr")
	while [[ $msg == *...* ]]; do
		pat+="${msg%%...*}"$'\x01'
		msg=${msg#*...}
	done
	pat+=$msg
	if [ "$rc" -ne "$code" ] || ! glob_has "$text" "relaywatch: error: $pat"; then
		echo "FAIL [$rc, want $code] $*"
		echo "     want: relaywatch: error: $msg"
		sed 's/^/     got:  /' "$T/stderr" | head -n 5
		failed=$((failed + 1))
		return
	fi
	echo "ok   [$code] $msg"
}

# Whether text holds pattern, whose \x01 separators match anything.
glob_has() {
	local text=$1 pat=$2 part
	IFS=$'\x01' read -r -d '' -a parts <<<"$pat" || true
	for part in "${parts[@]}"; do
		part=${part%$'\n'}
		[[ $text == *"$part"* ]] || return 1
		text=${text#*"$part"}
	done
	return 0
}

# cfg NAME: stdin becomes $T/NAME.yaml
cfg() {
	cat >"$T/$1.yaml"
}

# ---- command line (64) ----
expect 64 'no input: give -r FILE, --afxdp IFACE or --dpdk'
expect 64 '-r, --afxdp and --dpdk exclude each other' -r "$P" --dpdk
expect 64 'arguments after "--" are only for --dpdk' -r "$P" -- -l 0
expect 64 '--exit-idle only applies to --dpdk' -r "$P" --exit-idle 5
expect 64 '--preload only applies to -r' --dpdk --preload
expect 64 '--collector needs --tls-cert, --tls-key and --tls-ca, or --collector-plaintext' \
	-r "$P" --collector 127.0.0.1:9
expect 64 '--collector-plaintext and --tls-* exclude each other' \
	-r "$P" --collector 127.0.0.1:9 --collector-plaintext --tls-ca /dev/null
expect 64 '--spool, --archive and --sensor-id need --collector' -r "$P" --archive
expect 64 "--workers: '0' is not a number in 1..64" -r "$P" -w 0
expect 64 "--queues: '65' is not a number in 1..64" -r "$P" --queues 65
expect 64 "--exit-idle: '0' is not a number in 1..3600" --dpdk --exit-idle 0
expect 64 "--report: unknown value 'xml'" -r "$P" --report xml
expect 64 "--xdp-mode: unknown value 'turbo'" -r "$P" --xdp-mode turbo
expect 64 "--bind: unknown value 'zc'" -r "$P" --bind zc
expect 64 '--bogus: unknown option or missing value' -r "$P" --bogus
expect 64 '-Z: unknown option or missing value' -r "$P" -Z
expect 64 '-r: unknown option or missing value' -r
expect 64 "unexpected argument 'extra'" -r "$P" extra
homes=()
for i in $(seq 257); do homes+=(--home-net 10.0.0.0/8); done
expect 64 '--home-net: too many' -r "$P" "${homes[@]}"
expect 64 "--smtp-ports: port: '0' is not a number in 1..65535" -r "$P" --smtp-ports 0
expect 64 "--smtp-ports: port list '25,,26': bad entry" -r "$P" --smtp-ports 25,,26
expect 64 '--smtp-ports: empty port list' -r "$P" --smtp-ports ''
ports=$(seq -s, 1000 1032)
expect 64 "--tls-ports: port list '$ports': more than 32 ports" -r "$P" --tls-ports "$ports"
expect 64 "--home-net: '10.0.0.0/33': bad prefix length" -r "$P" --home-net 10.0.0.0/33
expect 64 "--home-net: '10.0.0.1/8': host bits set below /8" -r "$P" --home-net 10.0.0.1/8
expect 64 "--home-net: 'nowhere' is not an address or CIDR" -r "$P" --home-net nowhere
expect 64 "--home-net: bad entry in '10.0.0.0/8,,'" -r "$P" --home-net 10.0.0.0/8,,
expect 64 '--sensor-id: too long' -r "$P" --collector 127.0.0.1:9 --collector-plaintext \
	--sensor-id "$(printf 'x%.0s' $(seq 200))"

# ---- capture files (65 data error, 66 no input) ----
expect 66 "$T/none.pcap: No such file or directory" -r "$T/none.pcap"
expect 65 "$T: is a directory, not a capture file" -r "$T"
echo 'not a capture' >"$T/text.pcap"
expect 65 "$T/text.pcap: not a readable pcap/pcapng capture: unknown file format" \
	-r "$T/text.pcap"
: >"$T/empty.pcap"
expect 65 "$T/empty.pcap: not a readable pcap/pcapng capture: truncated dump file; tried to read 4 file header bytes, only got 0" \
	-r "$T/empty.pcap"
head -c 30 "$P" >"$T/cut.pcap"
expect 65 "$T/cut.pcap: truncated dump file; tried to read 16 header bytes, only got 6" \
	-r "$T/cut.pcap"
python3 - "$P" "$T" <<'EOF'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
lt = bytearray(d)
struct.pack_into("<I", lt, 20, 147)
open(sys.argv[2] + "/user0.pcap", "wb").write(lt)
struct.pack_into("<I", d, 24 + 8, 0xffffffff)
open(sys.argv[2] + "/caplen.pcap", "wb").write(d)
EOF
expect 65 "$T/user0.pcap: link type 147 (...) is not supported; supported: Ethernet, Linux cooked (SLL, SLL2), BSD loopback, raw IPv4/IPv6" \
	-r "$T/user0.pcap"
expect 65 "$T/caplen.pcap: invalid packet capture length 4294967295, bigger than snaplen of" \
	-r "$T/caplen.pcap"

# ---- configuration file (78) ----
expect 78 "$T/none.yaml: No such file or directory" -c "$T/none.yaml" -r "$P"
mkdir "$T/dir.yaml"
expect 78 "$T/dir.yaml: is a directory" -c "$T/dir.yaml" -r "$P"
head -c 1100000 /dev/zero | tr '\0' '#' >"$T/big.yaml"
expect 78 "$T/big.yaml: more than 1 MiB; a configuration file is a few KiB (is it the right file?)" \
	-c "$T/big.yaml" -r "$P"
printf 'capture:\n\tworkers: 2\n' | cfg tab
expect 78 "$T/tab.yaml:2: capture: YAML syntax error: ... (a tab: indent with spaces)" \
	-c "$T/tab.yaml" -r "$P"
printf 'collector:\n  sensor_id: "open\n' | cfg syntax
expect 78 "$T/syntax.yaml:3: collector.sensor_id: YAML syntax error: ..." \
	-c "$T/syntax.yaml" -r "$P"
printf 'capture: &c\n  workers: 2\n' | cfg anchor
expect 78 "$T/anchor.yaml:1: capture: anchors (&c) are not supported: write each value out" \
	-c "$T/anchor.yaml" -r "$P"
printf 'smtp_ports: [25]\ntls_ports: *p\n' | cfg alias
expect 78 "$T/alias.yaml:2: tls_ports: aliases (*p) are not supported: write the value out" \
	-c "$T/alias.yaml" -r "$P"
printf 'collector:\n  sensor_id: "a\\0b"\n' | cfg nul
expect 78 "$T/nul.yaml:2: collector.sensor_id: a value must not contain a NUL character" \
	-c "$T/nul.yaml" -r "$P"
printf 'capture:\n  [workers]: 2\n' | cfg keylist
expect 78 "$T/keylist.yaml:2: capture: a key must be a name, got a list" \
	-c "$T/keylist.yaml" -r "$P"
printf 'capture:\n  workers: 1\n  workers: 2\n' | cfg dup
expect 78 "$T/dup.yaml:3: capture.workers: duplicate key (first at line 2)" \
	-c "$T/dup.yaml" -r "$P"
printf 'capture:\n  workrs: 2\n' | cfg typo
expect 78 "$T/typo.yaml:2: capture.workrs: unknown key; did you mean 'workers'?" \
	-c "$T/typo.yaml" -r "$P"
printf 'workers: 2\n' | cfg elsewhere
expect 78 "$T/elsewhere.yaml:1: workers: unknown key; did you mean 'capture.workers'?" \
	-c "$T/elsewhere.yaml" -r "$P"
printf 'frobnicate: 2\n' | cfg unknown
expect 78 "$T/unknown.yaml:1: frobnicate: unknown key" -c "$T/unknown.yaml" -r "$P"
printf 'capture:\n  checksums: maybe\n' | cfg bool
expect 78 "$T/bool.yaml:2: capture.checksums: 'maybe' is not a boolean (true/false, yes/no, on/off)" \
	-c "$T/bool.yaml" -r "$P"
printf 'capture:\n  checksums:\n' | cfg novalue
expect 78 "$T/novalue.yaml:2: capture.checksums: needs a value" -c "$T/novalue.yaml" -r "$P"
printf 'limits:\n  hosts: many\n' | cfg count
expect 78 "$T/count.yaml:2: limits.hosts: 'many' is not a count" -c "$T/count.yaml" -r "$P"
printf 'limits:\n  reasm_bytes_per_flow: 12XB\n' | cfg size
expect 78 "$T/size.yaml:2: limits.reasm_bytes_per_flow: '12XB' is not a size (e.g. 64KiB, 32MiB, 1GiB)" \
	-c "$T/size.yaml" -r "$P"
printf 'limits:\n  flow_idle_timeout: 5y\n' | cfg duration
expect 78 "$T/duration.yaml:2: limits.flow_idle_timeout: '5y' is not a duration (e.g. 90, 90s, 10m, 2h, 1d)" \
	-c "$T/duration.yaml" -r "$P"
printf 'limits:\n  flows_per_worker: 0\n' | cfg range
expect 78 "$T/range.yaml:2: limits.flows_per_worker: '0' is out of range (1024..16777216)" \
	-c "$T/range.yaml" -r "$P"
printf 'live:\n  xdp_mode: turbo\n' | cfg enum
expect 78 "$T/enum.yaml:2: live.xdp_mode: 'turbo' is not one of: auto, native, generic" \
	-c "$T/enum.yaml" -r "$P"
printf 'collector:\n  sensor_id: %s\n' "$(printf 'x%.0s' $(seq 200))" | cfg long
expect 78 "$T/long.yaml:2: collector.sensor_id: 'xxx...' is too long (at most 127 characters)" \
	-c "$T/long.yaml" -r "$P"
printf 'collector:\n  sensor_id: "a\\tb"\n' | cfg control
expect 78 "$T/control.yaml:2: collector.sensor_id: 'a...b' contains a control character" \
	-c "$T/control.yaml" -r "$P"
printf 'collector:\n  sensor_id: "a b"\n' | cfg name
expect 78 "$T/name.yaml:2: collector.sensor_id: 'a b' is not a name (letters, digits, '.', '_', '-')" \
	-c "$T/name.yaml" -r "$P"
printf 'collector:\n  address: nowhere\n' | cfg hostport
expect 78 "$T/hostport.yaml:2: collector.address: 'nowhere' is not HOST:PORT with a port of 1-65535" \
	-c "$T/hostport.yaml" -r "$P"
printf 'smtp_ports: [25, x]\n' | cfg port
expect 78 "$T/port.yaml:1: smtp_ports: 'x' is not a port" -c "$T/port.yaml" -r "$P"
printf 'smtp_ports: [70000]\n' | cfg portrange
expect 78 "$T/portrange.yaml:1: smtp_ports: '70000' is out of range (1..65535)" \
	-c "$T/portrange.yaml" -r "$P"
printf 'smtp_ports: [25, 25]\n' | cfg porttwice
expect 78 "$T/porttwice.yaml:1: smtp_ports: port 25 is listed twice" \
	-c "$T/porttwice.yaml" -r "$P"
printf 'smtp_ports: "%s"\n' "$(seq -s, 1000 1032)" | cfg ports33
expect 78 "$T/ports33.yaml:1: smtp_ports: more than 32 ports" -c "$T/ports33.yaml" -r "$P"
printf 'home_domains: "a.example,,b.example"\n' | cfg emptyentry
expect 78 "$T/emptyentry.yaml:1: home_domains: empty list entry" -c "$T/emptyentry.yaml" -r "$P"
printf 'home_domains: [bad..example]\n' | cfg domain
expect 78 "$T/domain.yaml:1: home_domains: 'bad..example' is not a domain name" \
	-c "$T/domain.yaml" -r "$P"
printf 'home_net: [nowhere]\n' | cfg cidr
expect 78 "$T/cidr.yaml:1: home_net: 'nowhere' is not an address or CIDR" -c "$T/cidr.yaml" -r "$P"
printf 'home_net: {a: 1}\n' | cfg listmap
expect 78 "$T/listmap.yaml:1: home_net: expected a list, got a map" -c "$T/listmap.yaml" -r "$P"
printf 'capture:\n  workers: [1]\n' | cfg single
expect 78 "$T/single.yaml:2: capture.workers: expected a single value, got a list" \
	-c "$T/single.yaml" -r "$P"
printf 'limits: 5\n' | cfg section
expect 78 "$T/section.yaml:1: limits: expected a map of keys, got a single value" \
	-c "$T/section.yaml" -r "$P"
printf -- '- a\n' | cfg toplist
expect 78 "$T/toplist.yaml:1: the top level must be a map of keys, got a list" \
	-c "$T/toplist.yaml" -r "$P"
printf 'capture: {}\n---\ncapture: {}\n' | cfg twodocs
expect 78 "$T/twodocs.yaml:2: a second YAML document ('---'): the configuration is one map" \
	-c "$T/twodocs.yaml" -r "$P"
printf 'detectors:\n  open_relay: 5\n' | cfg detmap
expect 78 "$T/detmap.yaml:2: detectors.open_relay: expected a map (enabled, severity, parameters), got a single value" \
	-c "$T/detmap.yaml" -r "$P"
printf 'detectors:\n  open_relay:\n    severity: huge\n' | cfg severity
expect 78 "$T/severity.yaml:3: detectors.open_relay.severity: 'huge' is not a severity (info, low, medium, high, critical)" \
	-c "$T/severity.yaml" -r "$P"
printf 'detectors:\n  open_relay:\n    min_domains: 0\n' | cfg param
expect 78 "$T/param.yaml:3: detectors.open_relay.min_domains: '0' is out of range (" \
	-c "$T/param.yaml" -r "$P"
printf 'signatures:\n  files: [%s]\n' "$(seq -s, 1 17)" | cfg sigfiles
expect 78 "$T/sigfiles.yaml:2: signatures.files: more than 16 files" -c "$T/sigfiles.yaml" -r "$P"

# ---- configuration cross-checks (78) ----
printf 'smtp_ports: [25]\ntls_ports: [25]\n' | cfg bothports
expect 78 'port 25 is in both smtp_ports and tls_ports: a port is plain SMTP (maybe STARTTLS) or implicit TLS' \
	-c "$T/bothports.yaml" -r "$P"
printf 'limits:\n  reasm_bytes_per_flow: 8MiB\n  reasm_bytes_per_worker: 4MiB\n' | cfg reasm
expect 78 'limits.reasm_bytes_per_flow (8MiB) is larger than limits.reasm_bytes_per_worker (4MiB)' \
	-c "$T/reasm.yaml" -r "$P"
printf 'limits:\n  smtp_max_line: 64KiB\n  smtp_max_header_bytes: 16KiB\n' | cfg maxline
expect 78 'limits.smtp_max_line (64KiB) is larger than limits.smtp_max_header_bytes (16KiB)' \
	-c "$T/maxline.yaml" -r "$P"
printf 'limits:\n  flow_idle_timeout: 20s\n  flow_embryonic_timeout: 30s\n' | cfg timeouts
expect 78 'limits.flow_embryonic_timeout and limits.flow_closed_timeout must not be longer than limits.flow_idle_timeout (20s)' \
	-c "$T/timeouts.yaml" -r "$P"
printf 'collector:\n  address: 127.0.0.1:9\n' | cfg notls
expect 78 "collector.address '127.0.0.1:9' is reached over TLS: set collector.tls_cert, collector.tls_key and collector.tls_ca, or collector.plaintext: true" \
	-c "$T/notls.yaml" -r "$P"
printf 'collector:\n  address: 127.0.0.1:9\n  tls_cert: %s/none.pem\n  tls_key: /dev/null\n  tls_ca: /dev/null\n' "$T" | cfg nocert
expect 78 "collector.tls_cert: '$T/none.pem': No such file or directory" \
	-c "$T/nocert.yaml" -r "$P"
printf 'collector:\n  address: 127.0.0.1:9\n  plaintext: true\n  tls_ca: /dev/null\n' | cfg plaintls
expect 78 'collector.plaintext and collector.tls_cert/tls_key/tls_ca exclude each other: plain TCP or TLS, not both' \
	-c "$T/plaintls.yaml" -r "$P"
printf 'collector:\n  spool_dir: /tmp\n' | cfg spool
expect 78 'collector.spool_dir needs collector.address' -c "$T/spool.yaml" -r "$P"
printf 'collector:\n  archive: true\n' | cfg archive
expect 78 'collector.archive needs collector.address' -c "$T/archive.yaml" -r "$P"
printf 'privacy:\n  pseudonymize: true\n' | cfg nokey
expect 78 'privacy.pseudonymize needs privacy.key_file (at least 32 random bytes: head -c 32 /dev/urandom > FILE)' \
	-c "$T/nokey.yaml" -r "$P"
head -c 8 /dev/urandom >"$T/short.key"
chmod 600 "$T/short.key"
printf 'privacy:\n  pseudonymize_ips: true\n  key_file: %s/short.key\n' "$T" | cfg shortkey
expect 78 "privacy.key_file: key file '$T/short.key' has 8 bytes; a key needs at least 32 (head -c 32 /dev/urandom > FILE)" \
	-c "$T/shortkey.yaml" -r "$P"
printf 'privacy:\n  pseudonymize: true\n  key_file: %s\n' "$T" | cfg dirkey
expect 78 "privacy.key_file: key file '$T' is not a regular file" -c "$T/dirkey.yaml" -r "$P"
printf 'signatures:\n  files: [%s/none.rules]\n' "$T" | cfg norules
expect 78 "signatures.files: '$T/none.rules': No such file or directory" \
	-c "$T/norules.yaml" -r "$P"

# ---- signature files (78: they are configuration) ----
printf 'this is not a rule\n' >"$T/bad.rules"
printf 'signatures:\n  files: [%s/bad.rules]\n' "$T" | cfg badrules
expect 78 "signatures: $T/bad.rules:1: bad id (1..4294967295) 'this'" \
	-c "$T/badrules.yaml" -r "$P"
seq 1 65537 | awk '{ printf "%d command spam low - /x%d/ \"m\"\n", $1, $1 }' >"$T/many.rules"
printf 'signatures:\n  files: [%s/many.rules]\n' "$T" | cfg manyrules
expect 78 "signatures: $T/many.rules:65537: too many rules (max 65536)" -c "$T/manyrules.yaml" -r "$P"
truncate -s 9M "$T/huge.rules"
printf 'signatures:\n  files: [%s/huge.rules]\n' "$T" | cfg hugerules
expect 78 "signatures: $T/huge.rules: file too large (max 8388608 bytes)" -c "$T/hugerules.yaml" -r "$P"
# A sysfs file claims 4096 bytes and holds a few: what a file cut while it is read looks like.
sysfs=/sys/devices/system/cpu/online
if [ -r "$sysfs" ]; then
	ln -s "$sysfs" "$T/sysfs.rules"
	printf 'signatures:\n  files: [%s/sysfs.rules]\n' "$T" | cfg sysrules
	expect 78 "signatures: $T/sysfs.rules: read ... of its 4096 bytes: the file changed while being read, or is not an ordinary file" \
		-c "$T/sysrules.yaml" -r "$P"
	ln -s "$sysfs" "$T/sysfs.key"
	printf 'privacy:\n  pseudonymize: true\n  key_file: %s/sysfs.key\n' "$T" | cfg syskey
	expect 78 "privacy.key_file: key file '$T/sysfs.key': read ... of its 4096 bytes: the file changed while being read, or is not an ordinary file" \
		-c "$T/syskey.yaml" -r "$P"
fi

# ---- live options checked before the interface is touched (69 unavailable) ----
expect 69 '--afxdp: the XDP pre-filter takes at most 16 SMTP and TLS ports' \
	--afxdp lo --smtp-ports "$(seq -s, 1 16)"

# ---- --user, threads (73 cannot create: set-up failed after the input opened) ----
# These rows run the whole set-up: without signatures it is faster (no Hyperscan compile).
printf 'signatures:\n  enabled: false\n' | cfg nosigs
N=(-c "$T/nosigs.yaml")
expect 73 '--user relaywatch-no-such-user: no such user' "${N[@]}" -r "$P" --user relaywatch-no-such-user
expect 73 '--user root: is root; name an unprivileged user' "${N[@]}" -r "$P" --user root
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null && command -v prlimit >/dev/null &&
	id nobody >/dev/null 2>&1; then
	nobody="$(id -u nobody) gid $(id -g nobody)"
	chmod 755 "$T" # the configuration, for the rows that are not root
	wrap=(setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups)
	expect 73 '--user nobody: not running as root' "${N[@]}" -r "$P" --user nobody
	# Root without CAP_SETUID/CAP_SETGID (a container's root, say).
	wrap=(setpriv --bounding-set=-setuid,-setgid)
	expect 73 "--user nobody: cannot switch to uid $nobody: applying the intermediate capabilities: Operation not permitted (does the sensor lack CAP_SETUID, CAP_SETGID or CAP_SETPCAP?)" \
		"${N[@]}" -r "$P" --user nobody
	# Threads of a user with no process left: main, detector, worker 0. Root has no
	# such limit, so an unused uid; without leak checks, whose tracer is a thread too.
	wrap=(env ASAN_OPTIONS=detect_leaks=0 prlimit --nproc=1:1 setpriv --reuid=64999
		--regid=64999 --clear-groups)
	expect 73 'cannot start the detector thread: Resource temporarily unavailable' "${N[@]}" -r "$P"
	wrap[3]=--nproc=2:2
	expect 73 'cannot start worker 0: Resource temporarily unavailable' "${N[@]}" -r "$P"
	wrap=()
fi

# ---- live runs: DPDK without hugepages, an AF_XDP port on a veth in a namespace ----
eal=(--no-huge -m 512 --no-pci --no-shconf --no-telemetry --log-level '*:error' -l 0)
if [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null &&
	! "$rw" -q --dpdk -c "$T/none.yaml" 2>&1 | grep -q 'not built into this binary'; then
	ns=rw-messages-$$
	ip netns add "$ns"
	trap 'ip netns del "$ns" 2>/dev/null; rm -rf "$T"' EXIT
	ip -n "$ns" link add va type veth peer name vb
	ip -n "$ns" link set va up
	ip -n "$ns" link set vb up
	# DPDK 22.11's net_af_xdp leaves its umem record (libxdp's xsk_umem__create) at
	# close: not ours, and not what this row is about.
	wrap=(ip netns exec "$ns" env ASAN_OPTIONS=detect_leaks=0:abort_on_error=1)
	expect 73 "--user nobody: dpdk:net_af_xdp0 detaches its XDP program at exit, which needs root: run it without --user, or use net_af_packet or --afxdp (whose detach helper keeps the privileges)" \
		"${N[@]}" --user nobody --dpdk -- "${eal[@]}" --vdev net_af_xdp0,iface=va
	wrap=()
	ip netns del "$ns"

	# SIGHUP while capturing (net_null never runs dry) with a rules file broken
	# since the start: the old set stays, the run goes on and ends cleanly on SIGTERM.
	rows=$((rows + 1))
	printf '1 command spam low - /XYZZY/ "m"\n' >"$T/hup.rules"
	printf 'signatures:\n  files: [%s/hup.rules]\n' "$T" | cfg hup
	timeout 60 "$rw" --report none -c "$T/hup.yaml" --dpdk -- "${eal[@]}" --vdev net_null0 \
		>"$T/stdout" 2>"$T/stderr" &
	pid=$!
	for _ in $(seq 600); do
		grep -q 'capturing:' "$T/stderr" && break
		sleep 0.1
	done
	echo 'broken' >"$T/hup.rules"
	kill -HUP "$pid"
	for _ in $(seq 600); do
		grep -q 'SIGHUP' "$T/stderr" && break
		sleep 0.1
	done
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	msg="SIGHUP: signatures not reloaded, keeping the current set: $T/hup.rules:1: bad id (1..4294967295) 'broken'"
	if [ "$rc" -ne 0 ] || ! glob_has "$(cat "$T/stderr")" "relaywatch: error: $msg"; then
		echo "FAIL [$rc, want 0] SIGHUP with a broken rules file"
		grep -v '^EAL\|^TELEMETRY' "$T/stderr" | sed 's/^/     got:  /' | head -n 5
		failed=$((failed + 1))
	else
		echo "ok   [0] $msg"
	fi
fi

# ---- output (73 cannot create, 74 I/O error) ----
expect 73 "$T/text.pcap/logs: Not a directory" -r "$P" -l "$T/text.pcap/logs"
mkdir -p "$T/statsdir/stats.json"
expect 74 "$T/statsdir/stats.json: cannot write: Is a directory" "${N[@]}" -r "$P" -l "$T/statsdir"
mkdir "$T/full"
ln -s /dev/full "$T/full/smtp.json"
expect 74 "$T/full: 1 failed writes to smtp.json or alerts.json: lines are missing (is the disk full?)" \
	"${N[@]}" -r "$P" -l "$T/full"

# ---- collector (69 unavailable) ----
# Nothing listens on port 1: the frames wait for an acknowledgement that never
# comes. SIGINT while they wait (the capture takes well under a second; a signal
# during the capture would only stop it early and the row would fail).
rows=$((rows + 1))
printf 'collector:\n  address: 127.0.0.1:1\n  plaintext: true\n  archive: true\n  drain_timeout: 1d\nsignatures:\n  enabled: false\n' |
	cfg nocollector
timeout --preserve-status -s INT 5 "$rw" -q --report none -c "$T/nocollector.yaml" -r "$here/../captures/open-relay.pcap" \
	--home-net 0.0.0.0/0 >"$T/stdout" 2>"$T/stderr"
rc=$?
msg='collector: interrupted before every frame was acknowledged; the rest are lost (no spool)'
if [ "$rc" -ne 69 ] || ! glob_has "$(cat "$T/stderr")" "relaywatch: error: $msg"; then
	echo "FAIL [$rc, want 69] SIGINT while frames wait for the collector"
	sed 's/^/     got:  /' "$T/stderr" | head -n 5
	failed=$((failed + 1))
else
	echo "ok   [69] $msg"
fi

echo "messages: $rows rows, $failed failed"
[ "$failed" -eq 0 ]
