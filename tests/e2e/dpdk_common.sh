# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# dpdk_common.sh: what the DPDK end-to-end tests share. Sourced, never run (dpdk_*.sh are the
# tests). Runs relaywatch --dpdk with --no-huge --no-pci vdevs and compares its transaction
# log with that of relaywatch -r on the same traffic. Owns its temp dir (DPDK_TMP) and the
# relaywatch processes it starts; every run is bounded by `timeout`. Exit 77 (meson SKIP)
# when not root or a tool or DPDK driver is missing.
#
#	. "$(dirname "$0")/dpdk_common.sh"
#	dpdk_init RELAYWATCH [TOOL...]
#	dpdk_run OUT_DIR [SENSOR-OPTIONS...] -- VDEV...	# --exit-idle 1 ends it
#	dpdk_same_records A/smtp.json B/smtp.json [KEY-TO-IGNORE...]
#	DPDK_OPTS=(-c "$(dpdk_small_config [sigs])")		# options of every run

DPDK_TMP=""
DPDK_RW=""
DPDK_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DPDK_CORPUS="$DPDK_HERE/../corpus/captures"
DPDK_CAPTURES="$DPDK_HERE/../captures"
DPDK_PMDS=/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0
# Every EAL the tests start: no hugepages can be reserved here, no PCI device is ours, and
# no file in /var/run/dpdk may outlive the run.
DPDK_EAL=(-l 0-1 --no-huge -m 512 --no-pci --no-shconf --no-telemetry --log-level '*:warning')
# Sensor options every dpdk_run and dpdk_run_r add (both sides of a comparison alike).
DPDK_OPTS=()

dpdk_log() { printf '[dpdk-e2e %(%T)T] %s\n' -1 "$*" >&2; }
dpdk_die() { dpdk_log "FAIL: $*"; exit 1; }
dpdk_skip() { dpdk_log "SKIP: $*"; exit 77; }

dpdk_cleanup()
{
	local rc=$?
	[[ -n $DPDK_TMP && -d $DPDK_TMP && ${RW_KEEP:-0} != 1 ]] && rm -rf "$DPDK_TMP"
	return "$rc"
}

# dpdk_init RELAYWATCH [TOOL...]: checks, temp dir, trap (after rw_init, lib.sh's own).
dpdk_init()
{
	local t
	DPDK_RW=$1
	shift
	[[ $(id -u) -eq 0 ]] || dpdk_skip "needs root (DPDK EAL, namespaces)"
	[[ -x $DPDK_RW ]] || dpdk_skip "no relaywatch binary at '$DPDK_RW'"
	for t in timeout python3 ldd "$@"; do
		command -v "$t" >/dev/null 2>&1 || dpdk_skip "missing tool: $t"
	done
	# The DPDK source is the only user of librte_ethdev.
	ldd "$DPDK_RW" 2>/dev/null | grep librte_ethdev >/dev/null || dpdk_skip "relaywatch was built without DPDK"
	if [[ -n ${RW_TMP:-} ]]; then
		# lib.sh's lab: its trap removes RW_TMP and everything in it.
		DPDK_TMP=$RW_TMP/dpdk
		mkdir -p "$DPDK_TMP" || dpdk_die "mkdir $DPDK_TMP"
	else
		DPDK_TMP=$(mktemp -d /tmp/rw-dpdk.XXXXXX) || dpdk_die "mktemp"
		trap dpdk_cleanup EXIT
	fi
}

# dpdk_small_config [sigs]: a configuration for runs over small captures, printed as its path:
# tables sized for thousands of flows instead of a tap's millions (a start then costs
# milliseconds, not seconds of page faults on a loaded machine), and without the Hyperscan
# signatures (compiling them takes seconds per start) unless "sigs" is given.
dpdk_small_config()
{
	local f=$DPDK_TMP/small${1:+-$1}.yaml
	cat >"$f" <<EOF
signatures:
  enabled: $([[ ${1:-} == sigs ]] && echo true || echo false)
limits:
  flows_per_worker: 4096
  reasm_bytes_per_worker: 4MiB
  smtp_sessions_per_worker: 1024
  event_ring_bytes: 1MiB
  hosts: 4096
  accounts: 4096
EOF
	echo "$f"
}

# dpdk_require_pmd NAME...: the driver is packaged (librte_net_NAME.so).
dpdk_require_pmd()
{
	local p
	for p in "$@"; do
		[[ -e $DPDK_PMDS/librte_net_$p.so ]] || dpdk_skip "DPDK driver net_$p not installed"
	done
}

# dpdk_run OUT_DIR [SENSOR-OPTIONS...] -- VDEV...: relaywatch --dpdk over the vdevs, ending
# by itself (--exit-idle 1) within 120 s; its stderr is kept in OUT_DIR.log.
dpdk_run()
{
	local out=$1 opts=() vdevs=() rc=0
	shift
	while [[ $# -gt 0 && $1 != -- ]]; do
		opts+=("$1")
		shift
	done
	shift
	for v in "$@"; do
		vdevs+=(--vdev "$v")
	done
	rm -rf "$out"
	mkdir -p "$out"
	timeout -k 5 120 "$DPDK_RW" -q --report none --exit-idle 1 -l "$out" "${DPDK_OPTS[@]}" \
		"${opts[@]}" --dpdk -- "${DPDK_EAL[@]}" "${vdevs[@]}" 2>"$out.log" || rc=$?
	[[ $rc == 0 ]] || { cat "$out.log" >&2; dpdk_die "relaywatch --dpdk exited $rc"; }
	[[ -s $out/stats.json ]] || dpdk_die "$out: no stats.json"
}

# dpdk_run_r OUT_DIR FILE [SENSOR-OPTIONS...]: the reference, relaywatch -r.
dpdk_run_r()
{
	local out=$1 file=$2
	shift 2
	rm -rf "$out"
	mkdir -p "$out"
	timeout -k 5 120 "$DPDK_RW" -q --report none -l "$out" "${DPDK_OPTS[@]}" "$@" -r "$file" \
		2>"$out.log" ||
		{ cat "$out.log" >&2; dpdk_die "relaywatch -r $file failed"; }
}

# dpdk_same_records A B [KEY...]: the same JSON records, whole, in any order (KEYs removed
# from every record first). Prints the first difference.
dpdk_same_records()
{
	python3 - "$@" <<'EOF'
import json, sys
a, b, drop = sys.argv[1], sys.argv[2], set(sys.argv[3:])
def load(p):
    out = []
    with open(p) as f:
        for line in f:
            r = json.loads(line)
            for k in drop:
                r.pop(k, None)
            out.append(json.dumps(r, sort_keys=True))
    return sorted(out)
ra, rb = load(a), load(b)
if ra == rb:
    sys.exit(0)
print("%s: %d records, %s: %d records" % (a, len(ra), b, len(rb)), file=sys.stderr)
for x, y in zip(ra + [""] * len(rb), rb + [""] * len(ra)):
    if x != y:
        print("-" + x[:1500] + "\n+" + y[:1500], file=sys.stderr)
        break
sys.exit(1)
EOF
}

# dpdk_stat DIR KEY...: numbers from DIR/stats.json (dotted paths, list indexes allowed), one
# line each: several keys in one call (a python start costs seconds on a loaded machine).
dpdk_stat()
{
	python3 - "$1/stats.json" "${@:2}" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for key in sys.argv[2:]:
    v = d
    for k in key.split("."):
        v = v[int(k)] if isinstance(v, list) else v[k]
    print(v if not isinstance(v, (list, dict)) else json.dumps(v))
EOF
}

# dpdk_split FILE TO_SERVER.pcap TO_CLIENT.pcap: a split tap from one capture: frames whose TCP
# destination port is an SMTP port (25 465 587 2525) go to the first file, all others to the
# second. Classic pcap, Ethernet with optional 802.1Q/802.1ad tags, IPv4 or IPv6.
dpdk_split()
{
	python3 - "$@" <<'EOF'
import struct, sys
SMTP = {25, 465, 587, 2525}
src, out_s, out_c = sys.argv[1:4]
d = open(src, "rb").read()
magic = d[:4]
e = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
if struct.unpack(e + "I", d[20:24])[0] != 1:
    sys.exit("%s: not an Ethernet capture" % src)
def dport(f):
    off, et = 14, struct.unpack("!H", f[12:14])[0]
    while et in (0x8100, 0x88a8) and len(f) >= off + 4:
        et, off = struct.unpack("!H", f[off + 2:off + 4])[0], off + 4
    if et == 0x0800 and len(f) >= off + 20 and f[off + 9] == 6:
        off += (f[off] & 15) * 4
    elif et == 0x86dd and len(f) >= off + 40 and f[off + 6] == 6:
        off += 40
    else:
        return None
    return struct.unpack("!H", f[off + 2:off + 4])[0] if len(f) >= off + 4 else None
outs = [open(out_s, "wb"), open(out_c, "wb")]
for o in outs:
    o.write(d[:24])
off = 24
while off + 16 <= len(d):
    caplen = struct.unpack(e + "I", d[off + 8:off + 12])[0]
    rec = d[off:off + 16 + caplen]
    outs[0 if dport(rec[16:]) in SMTP else 1].write(rec)
    off += 16 + caplen
for o in outs:
    o.close()
EOF
}
