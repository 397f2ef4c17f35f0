#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Run every test suite: the regular build (unit, lint, corpus, bpf, e2e),
# unit and corpus in the release build (LTO), the same suites under
# ASan+UBSan, and each libFuzzer target for a bounded time. Ends with the
# line "N passed, N failed". Run as root for the network-namespace, XDP and
# DPDK tests (they are skipped otherwise).
#
# usage: scripts/test.sh [--quick] [--fuzz-seconds N]
#   --quick   regular build only (no release, sanitizer or fuzz build)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
quick=0
fuzz_secs=${FUZZ_SECONDS:-45}
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--fuzz-seconds) fuzz_secs=$2; shift ;;
	-h|--help) sed -n '3,10p' "$0"; exit 0 ;;
	*) echo "test.sh: unknown option $1" >&2; exit 64 ;;
	esac
	shift
done

passed=0
failed=0
logdir=$(mktemp -d /tmp/relaywatch-test.XXXXXX)

# meson's summary lines ("Ok: N", "Fail: N", ...) into the totals.
count_meson() {
	local log=$1 ok fail
	ok=$(awk '/^Ok:/ {print $2}' "$log" | tail -n 1)
	fail=$(awk '/^(Fail|Unexpected Pass|Timeout):/ {s += $NF} END {print s + 0}' "$log")
	passed=$((passed + ${ok:-0}))
	failed=$((failed + ${fail:-0}))
	if [ -z "$ok" ]; then
		failed=$((failed + 1))	# meson itself failed before running anything
	fi
}

# $1 = label, $2 = build dir, rest = meson test arguments
run_suites() {
	local label=$1 dir=$2
	shift 2
	echo "=== $label: meson test $*"
	meson test -C "$dir" --print-errorlogs "$@" 2>&1 | tee "$logdir/$label.log"
	count_meson "$logdir/$label.log"
}

build_dir() {
	local dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$top" "$@" >"$logdir/setup-$(basename "$dir").log" 2>&1 ||
			{ cat "$logdir/setup-$(basename "$dir").log"; return 1; }
	fi
	ninja -C "$dir" >"$logdir/ninja-$(basename "$dir").log" 2>&1 ||
		{ tail -n 50 "$logdir/ninja-$(basename "$dir").log"; return 1; }
}

if build_dir "$top/build" --buildtype=debugoptimized; then
	run_suites regular "$top/build" --num-processes 2
else
	echo "build failed"; failed=$((failed + 1))
fi

if [ $quick -eq 0 ]; then
	# The build that runs on a tap: -O3, asserts compiled out, link-time
	# optimisation inlining across files. An assert with a side effect or code
	# that only breaks once inlined elsewhere shows only here.
	if build_dir "$top/build-release" --buildtype=release -Db_lto=true; then
		run_suites release "$top/build-release" --num-processes 2 --suite unit --suite corpus
	else
		echo "release build failed"; failed=$((failed + 1))
	fi

	# Sanitizers, ASan+UBSan: unit and conformance, and from the end-to-end tests the
	# 'sanitize' suite: the detector scenarios, hostile captures, privacy, and one run
	# of each live source and of the collector link (the rest repeat the same code
	# under the regular build; all of them twice would not fit CI's time).
	if build_dir "$top/build-asan" --buildtype=debug -Db_sanitize=address,undefined \
		-Db_lundef=false; then
		export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
		export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
		run_suites asan "$top/build-asan" --num-processes 2 --suite unit --suite corpus \
			--suite sanitize
	else
		echo "sanitizer build failed"; failed=$((failed + 1))
	fi

	# Fuzzing: each target for a bounded time, two at a time.
	if CC=clang build_dir "$top/build-fuzz" --buildtype=debug -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false; then
		"$top/tests/fuzz/run.sh" "$top/build-fuzz" "$fuzz_secs" 2>&1 | tee "$logdir/fuzz.log"
		passed=$((passed + $(grep -c '^FUZZ OK' "$logdir/fuzz.log")))
		failed=$((failed + $(grep -c '^FUZZ FAIL' "$logdir/fuzz.log")))
	else
		echo "fuzz build failed"; failed=$((failed + 1))
	fi
fi

echo "logs: $logdir"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
