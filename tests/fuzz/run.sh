#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Run every libFuzzer target of a fuzz build for a bounded time each, two at
# a time, starting from the committed seeds (tests/fuzz/seeds/<target>/).
# A crash, leak, timeout or sanitizer report fails the target; the input
# that did it is kept in the work directory and named in the output.
#
# usage: run.sh BUILD_DIR [SECONDS [TARGET...]]   (developers: SECONDS=3600 for a long run;
#        TARGETs name a subset, e.g. "mime sigs_lit"; default: every target built)
#
# fuzz_sigs_lit compiles each input's pattern with Hyperscan (about a
# millisecond): it runs far fewer inputs per second than the parsers do.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# Entropic scheduling spends most of a short run updating feature frequencies
# on the SMTP targets (perf: 53% in UpdateFeatureFrequency; smtp_session ran
# 560 inputs in 15 s with it, 3927 without): off for bounded CI runs.
FUZZ_ENTROPIC=${FUZZ_ENTROPIC-0}
build=${1:?usage: run.sh BUILD_DIR [SECONDS]}
build=$(cd "$build" && pwd) || exit 1	# each target runs from its own work directory
secs=${2:-60}
shift $(($# < 2 ? $# : 2))
only="$*"
work=$(mktemp -d /tmp/relaywatch-fuzz.XXXXXX)

run_one() {
	local exe=$1 name
	name=$(basename "$exe")
	name=${name#fuzz_}
	mkdir -p "$work/$name/corpus"
	if [ -d "$here/seeds/$name" ]; then
		cp -r "$here/seeds/$name/." "$work/$name/corpus/"
	fi
	if (cd "$work/$name" && timeout $((secs + 120)) "$exe" -max_total_time="$secs" \
		-timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
		${FUZZ_ENTROPIC:+-entropic=$FUZZ_ENTROPIC} \
		corpus >"$work/$name/log" 2>&1); then
		echo "FUZZ OK   $name ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' \
			"$work/$name/log" | awk '{print $2}') runs)"
	else
		echo "FUZZ FAIL $name: see $work/$name/log"
		grep -m5 -E 'ERROR|SUMMARY|runtime error|Test unit written' "$work/$name/log"
	fi
}

targets=$(find "$build/tests/fuzz" -maxdepth 1 -type f -name 'fuzz_*' -perm -u+x 2>/dev/null | sort)
if [ -n "$only" ]; then
	targets=$(for t in $only; do echo "$targets" | grep -x ".*/fuzz_$t"; done)
fi
if [ -z "$targets" ]; then
	echo "FUZZ FAIL no fuzz targets built in $build"
	exit 1
fi
set -- $targets
while [ $# -gt 0 ]; do
	run_one "$1" &
	if [ $# -gt 1 ]; then
		run_one "$2" &
		shift
	fi
	shift
	wait
done
