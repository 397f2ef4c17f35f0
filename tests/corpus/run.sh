#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Run the sensor over every capture that has an expectation and score the
# transaction logs with check.py.
#
# usage: run.sh RELAYWATCH OUTDIR [EXPECTED_DIR [CAPTURES_DIR]]
#   EXPECTED_DIR defaults to tests/corpus/expected, CAPTURES_DIR to the
#   directory holding the captures that the expectations name.
# Writes OUTDIR/<rel>.smtp.json per capture and OUTDIR/check.txt; prints check.txt.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=${1:?usage: run.sh RELAYWATCH OUTDIR [EXPECTED_DIR [CAPTURES_DIR]]}
out=${2:?usage: run.sh RELAYWATCH OUTDIR [EXPECTED_DIR [CAPTURES_DIR]]}
exp=${3:-$here/expected}
caps=${4:-$(dirname "$exp")}
shift $(( $# < 4 ? $# : 4 ))

mkdir -p "$out"
status=0
while IFS= read -r -d '' e; do
	rel=${e#"$exp"/}
	rel=${rel%.json}
	# The expectation names its capture relative to the corpus root.
	cap=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["capture"])' "$e")
	[ -f "$caps/$cap" ] || cap="captures/$rel"
	logdir=$(mktemp -d)
	rc=0
	"$bin" -q --report none -c "$here/conformance.yaml" -r "$caps/$cap" -l "$logdir" "$@" \
		2>"$logdir/stderr" || rc=$?
	if [ $rc -eq 65 ]; then
		# A damaged capture (a few corpus files end in a corrupt record): what was
		# read before the damage is analysed and logged; the exit code says so.
		echo "note: $cap is damaged: $(tail -n 1 "$logdir/stderr")" >&2
	elif [ $rc -ne 0 ]; then
		echo "relaywatch failed on $cap (exit $rc):" >&2
		cat "$logdir/stderr" >&2
		status=1
	fi
	mkdir -p "$(dirname "$out/$rel")"
	cp "$logdir/smtp.json" "$out/$rel.smtp.json" 2>/dev/null || : > "$out/$rel.smtp.json"
	rm -rf "$logdir"
done < <(find "$exp" -name '*.json' -print0 | sort -z)

python3 "$here/check.py" "$exp" "$out" > "$out/check.txt"
cat "$out/check.txt"
exit $status
