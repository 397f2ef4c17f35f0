#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The `bench` run target: generates the five traffic profiles once (kept in
# BENCH_DIR, default <build>/bench-captures) and runs bench_pipeline on each
# with 1 and 2 workers. Figures go to stdout; the JSON lines to
# BENCH_DIR/results.jsonl; the last lines compare N workers with one by the
# CPU time of the busiest worker. Not a test: nothing is asserted.
#
#   run_bench.sh GEN_TRAFFIC BENCH_PIPELINE RULES BUILD_DIR
# Environment: BENCH_BYTES (default 256M), BENCH_RUNS (5), BENCH_PROFILES,
# BENCH_WORKERS ("1 2"), BENCH_SEED (1).
set -euo pipefail

gen=$1 pipeline=$2 rules=$3 build=$4
dir=${BENCH_DIR:-$build/bench-captures}
bytes=${BENCH_BYTES:-256M}
runs=${BENCH_RUNS:-5}
seed=${BENCH_SEED:-1}
profiles=${BENCH_PROFILES:-"smtp-heavy mixed-isp small-64 syn-flood short-spam"}
workers=${BENCH_WORKERS:-"1 2"}

mkdir -p "$dir"
: > "$dir/results.jsonl"
: > "$dir/summary.txt"
# The build's options, read once: the figures mean something only for a release build with LTO.
opts=$(meson introspect --buildoptions "$build/.." 2>/dev/null || true)
buildtype=$(printf '%s' "$opts" | grep -o '"name": "buildtype", "value": "[a-z]*"' |
	sed 's/.*"value": "//; s/"$//' || true)
if [ -n "$buildtype" ] && [ "$buildtype" != release ]; then
	echo "bench: this build is '$buildtype'; figures are only meaningful with --buildtype=release" >&2
fi
lto=$(printf '%s' "$opts" | grep -o '"name": "b_lto", "value": [a-z]*' | sed 's/.*"value": //' || true)
if [ -n "$lto" ] && [ "$lto" != true ]; then
	echo "bench: this build has no link-time optimisation; releases are built with -Db_lto=true" >&2
fi
lscpu | grep -E '^(Model name|CPU\(s\)|Thread|Core|Socket)' || true
for p in $profiles; do
	cap="$dir/$p-s$seed-$bytes.pcap"
	if [ ! -s "$cap" ] || [ ! -s "$cap.manifest" ]; then
		"$gen" --profile "$p" --seed "$seed" --bytes "$bytes" -o "$cap"
	fi
	for w in $workers; do
		echo "=== $p, $w worker(s) ==="
		"$pipeline" --rules "$rules" --label "$p" -w "$w" -r "$runs" "$cap" | tee "$dir/last.txt"
		grep '^JSON ' "$dir/last.txt" | cut -c6- >> "$dir/results.jsonl"
		grep '^summary ' "$dir/last.txt" >> "$dir/summary.txt"
	done
done
echo "=== summary (per core: worker thread CPU time; medians of $runs runs) ==="
cat "$dir/summary.txt"
# N workers against one, by the CPU time of the busiest worker: what a run
# waits for on dedicated cores, without the time other work on a shared
# machine takes from the wall clock. Once by the medians, once by the fastest
# runs: time a hypervisor takes without reporting steal still counts as CPU
# time and only ever adds, so the fastest run is the least disturbed.
awk '$1 == "summary" { w = substr($3, 3); t[$2, w] = $(NF - 4); f[$2, w] = $(NF - 1)
		p[$2] = 1; ws[w] = 1 }
	END { for (k in p) for (w in ws) if (w > 1 && t[k, 1] > 0 && t[k, w] > 0 && f[k, w] > 0)
		printf "scaling %-10s %s workers %.2fx one by medians, %.2fx by fastest runs " \
			"(busiest worker CPU time %.6f s vs %.6f s; fastest %.6f s vs %.6f s)\n",
			k, w, t[k, 1] / t[k, w], f[k, 1] / f[k, w], t[k, w], t[k, 1], f[k, w],
			f[k, 1] }' "$dir/summary.txt" | sort
echo "JSON lines: $dir/results.jsonl"
