#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Malformed input: the sensor on damaged captures and on hostile bytes inside
# well-formed ones. Whatever the input, a run ends with exit 0 (read, maybe
# with counted drops) or 65 (the file itself is damaged, said on stderr):
# never a crash, a sanitizer report (run it from the ASan build too) or a hang
# (every run has a time limit). What was read is still written as valid JSON.
#
#   - a capture cut at many offsets (global header, record headers, frames),
#     pcap, pcapng and gzip;
#   - record headers with flipped bytes (caplen/len/timestamps);
#   - every link type rewritten, supported or not;
#   - zero-length, runt and cut frames, bad IP/TCP header lengths;
#   - jumbo frames (9000 and 65535 bytes);
#   - bad IP and TCP checksums, counted, with capture.checksums on and off;
#   - invalid UTF-8 and NUL in SMTP lines, invalid base64 in AUTH and in
#     MIME parts, broken RFC 2047 words.
#
# usage: malformed.sh RELAYWATCH GEN_HOSTILE
set -uo pipefail

rw=${1:?usage: malformed.sh RELAYWATCH GEN_HOSTILE}
gen=${2:?usage: malformed.sh RELAYWATCH GEN_HOSTILE}
here=$(cd "$(dirname "$0")" && pwd)
check="$here/check_run.py"
captures="$here/../captures"

if ! command -v python3 >/dev/null; then
	echo "SKIP: needs python3"
	exit 77
fi
work=$(mktemp -d /tmp/relaywatch-malformed.XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=0
runs=0
LEGIT=8
# Sanitizer builds are slower; a hang is what this limit catches, not speed.
LIMIT=${MALFORMED_TIMEOUT:-120}

# Small tables: a run's start-up is then cheap (this test makes about 50 runs, also under
# ASan); every bound below is still far above what these captures need.
limits='limits:
  flows_per_worker: 4096
  reasm_bytes_per_flow: 16KiB
  reasm_bytes_per_worker: 1MiB
  smtp_sessions_per_worker: 1024
  event_ring_bytes: 1MiB
  hosts: 1024
  accounts: 1024
'
printf '%ssignatures:\n  enabled: false\n' "$limits" >"$work/nosig.yaml"
printf '%s' "$limits" >"$work/sig.yaml"
printf '%scapture:\n  checksums: true\n' "$limits" >"$work/verify.yaml"
printf '%scapture:\n  checksums: false\n' "$limits" >"$work/ignore.yaml"

fail() {
	echo "FAIL $*"
	failed=$((failed + 1))
}

# $1 label, $2 allowed exit codes ("0" or "0 65"), $3 capture, rest: extra options.
# Output in $work/out-N (the last also in $work/out); sets rc. The JSON of every
# run is checked at the end, by one interpreter.
run_one() {
	local label=$1 allowed=$2 pcap=$3 out
	shift 3
	runs=$((runs + 1))
	out="$work/out-$runs"
	mkdir -p "$out"
	ln -sfn "$out" "$work/out"
	timeout "$LIMIT" "$rw" -q --report none -l "$out" "$@" -r "$pcap" >"$out/stdout" \
		2>"$out/stderr"
	rc=$?
	if [[ " $allowed " != *" $rc "* ]]; then
		fail "$label: exit $rc (allowed: $allowed)"
		tail -n 5 "$out/stderr"
		return 1
	fi
	if grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$out/stderr"; then
		fail "$label: sanitizer report"
		grep -m 5 -E 'ERROR|runtime error|SUMMARY' "$out/stderr"
		return 1
	fi
	if [ "$rc" -eq 65 ] && ! grep -q 'error: ' "$out/stderr"; then
		fail "$label: exit 65 without a message"
		return 1
	fi
	return 0
}

# ---- damaged files ----

"$gen" --case smtp-garbage --count 4 --legit 4 -o "$work/small.pcap" >/dev/null ||
	fail "generator"
base="$work/small.pcap"
size=$(stat -c %s "$base")

# Cut everywhere in the headers, then at spread offsets through the frames.
python3 - "$base" "$work/cut" <<'EOF'
import random, sys
data = open(sys.argv[1], "rb").read()
offs = sorted(set(list(range(0, 64, 7)) + [random.Random(7).randrange(64, len(data))
                                             for _ in range(12)]))
for o in offs:
    open("%s-%06d.pcap" % (sys.argv[2], o), "wb").write(data[:o])
EOF
for f in "$work"/cut-*.pcap; do
	run_one "pcap cut at $(basename "$f" .pcap | cut -d- -f2)" "0 65" "$f" -c "$work/nosig.yaml"
done
rm -f "$work"/cut-*.pcap

# Record headers with damaged fields: lengths past the snap length, past the
# frame, 0xffffffff, nanoseconds past a second, and a flipped bit anywhere.
python3 - "$base" "$work/flip" <<'EOF'
import random, struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
recs, off = [], 24
while off + 16 <= len(data):
    recs.append(off)
    off += 16 + struct.unpack_from("<I", data, off + 8)[0]
rng = random.Random(11)
muts = [(8, 0xffffffff), (8, 0x40001), (12, 0), (8, 0), (12, 0xffffffff), (4, 0xffffffff),
        (0, 0xffffffff), (8, 70000), (12, 70000)]
n = 0
for i, (field, val) in enumerate(muts):
    for r in ((recs[1], recs[len(recs) // 2])[i % 2],):
        d = bytearray(data)
        struct.pack_into("<I", d, r + field, val)
        open("%s-%02d.pcap" % (sys.argv[2], n), "wb").write(d)
        n += 1
for _ in range(4):
    d = bytearray(data)
    r = rng.choice(recs)
    d[r + rng.randrange(16)] ^= 1 << rng.randrange(8)
    open("%s-%02d.pcap" % (sys.argv[2], n), "wb").write(d)
    n += 1
EOF
for f in "$work"/flip-*.pcap; do
	run_one "record header $(basename "$f" .pcap)" "0 65" "$f" -c "$work/nosig.yaml"
done
rm -f "$work"/flip-*.pcap

# Link types: supported ones misread the Ethernet frames (counted drops, exit 0);
# the others are refused with the list of what is supported (exit 65).
lts="0 1 12 101 108 113 147 228 229 276 65535 2147483647"
python3 - "$base" "$work/lt" $lts <<'EOF'
import struct, sys
for lt in sys.argv[3:]:
    d = bytearray(open(sys.argv[1], "rb").read())
    struct.pack_into("<I", d, 20, int(lt))
    open("%s-%s.pcap" % (sys.argv[2], lt), "wb").write(d)
EOF
for lt in $lts; do
	run_one "link type $lt" "0 65" "$work/lt-$lt.pcap" -c "$work/nosig.yaml" || continue
	if [ "$rc" -eq 65 ] && ! grep -q 'is not supported; supported: Ethernet' "$work/out/stderr"; then
		fail "link type $lt: refused without saying why"
		cat "$work/out/stderr"
	fi
done

# pcapng and gzip, whole and cut.
if command -v editcap >/dev/null; then
	editcap -F pcapng "$base" "$work/small.pcapng" 2>/dev/null
	run_one "pcapng whole" "0" "$work/small.pcapng" -c "$work/nosig.yaml"
	for o in 10 28 40 100 300 $((size / 2)); do
		head -c "$o" "$work/small.pcapng" >"$work/cut.pcapng"
		run_one "pcapng cut at $o" "0 65" "$work/cut.pcapng" -c "$work/nosig.yaml"
	done
fi
gzip -c "$base" >"$work/small.pcap.gz"
run_one "gzip whole" "0" "$work/small.pcap.gz" -c "$work/nosig.yaml"
gz=$(stat -c %s "$work/small.pcap.gz")
for o in 5 20 $((gz / 3)) $((gz - 9)); do
	head -c "$o" "$work/small.pcap.gz" >"$work/cut.pcap.gz"
	run_one "gzip cut at $o" "0 65" "$work/cut.pcap.gz" -c "$work/nosig.yaml"
done
# A gzip stream with a damaged body.
python3 - "$work/small.pcap.gz" "$work/bad.pcap.gz" <<'EOF'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
for i in range(40, len(d) - 8, 97):
    d[i] ^= 0x55
open(sys.argv[2], "wb").write(d)
EOF
run_one "gzip damaged" "0 65" "$work/bad.pcap.gz" -c "$work/nosig.yaml"

# ---- hostile bytes in readable captures (signatures on: the body scanner too) ----

gen_case() {
	"$gen" --case "$1" --legit "$LEGIT" -o "$work/$1.pcap" >/dev/null || fail "generator $1"
}

checks() {
	python3 "$check" "$work/out" --legit "$LEGIT" "$@" || failed=$((failed + 1))
}

echo "=== frames the decoder refuses"
gen_case bad-frames
run_one "bad frames" "0" "$work/bad-frames.pcap" -c "$work/sig.yaml" &&
	checks 'decode_empty >= 400' 'decode_truncated_l2 > 0' 'decode_bad_ip_hdr_len > 0' \
		'decode_bad_ip_len > 0' 'decode_bad_tcp_hdr_len > 0' 'decode_bad_ip_version > 0'

echo "=== jumbo frames (9000 and 65535 bytes)"
gen_case jumbo
run_one "jumbo" "0" "$work/jumbo.pcap" -c "$work/sig.yaml" &&
	checks 'decode_truncated_ip == 0' 'smtp_messages == 16' \
		"sum(1 for t in txs if t.get('mailfrom', '').startswith('jumbo-')
		     and t.get('msg_size', 0) > 3 * 8900 and t.get('complete')) == 8"

echo "=== bad checksums: counted and dropped (capture.checksums: true)"
gen_case checksums
run_one "checksums verify" "0" "$work/checksums.pcap" -c "$work/verify.yaml" &&
	checks 'decode_bad_tcp_checksum > 0' 'decode_bad_ip_checksum > 0' \
		"not any(t.get('mailfrom', '').startswith('badsum-') for t in txs)"
echo "=== bad checksums: not looked at (capture.checksums: false)"
run_one "checksums ignore" "0" "$work/checksums.pcap" -c "$work/ignore.yaml" &&
	checks 'decode_bad_tcp_checksum == 0 and decode_bad_ip_checksum == 0' \
		"sum(1 for t in txs if t.get('mailfrom', '').startswith('badsum-')) == 32"

echo "=== invalid UTF-8, NUL, invalid base64 in AUTH and MIME, broken RFC 2047"
gen_case smtp-garbage
run_one "smtp garbage" "0" "$work/smtp-garbage.pcap" -c "$work/sig.yaml" &&
	checks 'smtp_nul_bytes >= 24' 'smtp_auth_bad_base64 >= 24' 'smtp_messages == 24 + 8' \
		"sum(1 for t in txs if t.get('id.orig_h', '').startswith('10.')) == 24"

# Whatever was read was written, and written as JSON.
python3 "$check" --json-only "$work"/out-* || failed=$((failed + 1))
echo "malformed: $runs runs, $failed failed"
[ "$failed" -eq 0 ]
