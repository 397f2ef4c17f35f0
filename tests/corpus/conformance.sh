#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Conformance: run the sensor over every capture of an expectation set and
# compare check.py's per-capture scores with the committed baseline. Any
# capture scoring fewer fields than its baseline fails the test (a
# regression); a capture scoring more is reported so the baseline can be
# raised. The overall agreement figure is printed.
#
# usage: conformance.sh RELAYWATCH EXPECTED_DIR CAPTURES_ROOT BASELINE
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=${1:?usage: conformance.sh RELAYWATCH EXPECTED_DIR CAPTURES_ROOT BASELINE}
exp=${2:?}
caps=${3:?}
baseline=${4:?}
out=$(mktemp -d /tmp/relaywatch-conformance.XXXXXX)
trap 'rm -rf "$out"' EXIT

if ! "$here/run.sh" "$bin" "$out" "$exp" "$caps" >/dev/null; then
	echo "the sensor failed on at least one capture:"
	fail=1
fi
fail=${fail:-0}
# check.txt lines: "OK   rel fields X/Y ..." or "FAIL rel fields X/Y  mismatched: ..."
while read -r status rel _ score rest; do
	case $status in OK|FAIL) ;; *) continue ;; esac
	got=${score%/*}
	want=$(awk -v r="$rel" '$1 == r {print $2}' "$baseline")
	want=${want%/*}
	if [ -z "$want" ]; then
		echo "NEW      $rel $score (not in the baseline) $rest"
		[ "$status" = OK ] || fail=1
	elif [ "$got" -lt "$want" ]; then
		echo "REGRESS  $rel $score, baseline $want $rest"
		fail=1
	elif [ "$got" -gt "$want" ]; then
		echo "IMPROVED $rel $score, baseline $want: raise it in $(basename "$baseline")"
	fi
done < "$out/check.txt"
grep -E '^(FAIL|SKIP)' "$out/check.txt"
tail -n 1 "$out/check.txt"
exit $fail
