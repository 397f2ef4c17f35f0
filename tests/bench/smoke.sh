#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The benchmark harness itself (bench/), on small captures: the generator is
# deterministic, bench_pipeline parses every SMTP session the manifest names
# with 2 workers and drops no event, its figures are consistent with each
# other, and run_bench.sh ends with a scaling line. No timing is asserted:
# only relations that hold by construction (the fastest run's CPU time is at
# most the median's) and counts.
#
#   smoke.sh GEN_TRAFFIC BENCH_PIPELINE RULES_DIR RUN_BENCH_SH BUILD_DIR
set -euo pipefail

gen=$1 pipeline=$2 rules=$3 run_bench=$4 build=$5
tmp=$(mktemp -d /tmp/rw-bench-smoke.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

# Deterministic: the same arguments give the same bytes, another seed others.
"$gen" --profile short-spam --seed 7 --bytes 1M -o "$tmp/a.pcap" >/dev/null
"$gen" --profile short-spam --seed 7 --bytes 1M -o "$tmp/b.pcap" >/dev/null
"$gen" --profile short-spam --seed 8 --bytes 1M -o "$tmp/c.pcap" >/dev/null
cmp -s "$tmp/a.pcap" "$tmp/b.pcap" || fail "gen_traffic: same seed, different captures"
cmp -s "$tmp/a.pcap" "$tmp/c.pcap" && fail "gen_traffic: seeds 7 and 8 gave the same capture"

# Every stage, 2 workers, 3 runs.
"$pipeline" --rules "$rules" -w 2 -r 3 "$tmp/a.pcap" >"$tmp/out.txt" 2>&1 ||
	{ cat "$tmp/out.txt"; fail "bench_pipeline exited $?"; }
grep -q '^balance: ' "$tmp/out.txt" || fail "no balance line with 2 workers"
grep -q '^summary ' "$tmp/out.txt" || fail "no summary line"
grep '^JSON ' "$tmp/out.txt" | cut -c6- >"$tmp/out.json"
python3 - "$tmp/out.json" <<'PY' || failed=$((failed + 1))
import json, sys
j = json.loads(open(sys.argv[1]).read())
bad = []
stages = [s["stage"] for s in j["stages"]]
if stages[-1] != "+detector":
    bad.append(f"stages {stages}: the whole pipeline was not the last one run")
for s in j["stages"]:
    if s["max_worker_cpu_secs_fastest"] > s["max_worker_cpu_secs"]:
        bad.append(f"{s['stage']}: fastest run above the median")
    if s["max_worker_cpu_secs"] > s["cpu_secs"]:
        bad.append(f"{s['stage']}: the busiest worker ran more than both together")
    if s["events_dropped"]:
        bad.append(f"{s['stage']}: {s['events_dropped']} events dropped")
    if s["stage"] in ("+smtp", "+sigs", "+detector") and \
            s["smtp_sessions"] != j["expected_smtp_sessions"]:
        bad.append(f"{s['stage']}: {s['smtp_sessions']} sessions, manifest "
                   f"{j['expected_smtp_sessions']}")
if j["workers"] != 2 or j["runs"] != 3:
    bad.append(f"workers {j['workers']} runs {j['runs']}")
if not 0 < j["bytes_per_flow_before_data"] < 4096:
    bad.append(f"bytes per flow {j['bytes_per_flow_before_data']}")
if not j["body_bytes"] > 0 or not j["ratio_to_hs_scan"] > 0:
    bad.append("no raw hs_scan reference over the bodies")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY

# run_bench.sh: captures made once into BENCH_DIR, one scaling line per profile.
BENCH_DIR=$tmp/rb BENCH_BYTES=1M BENCH_RUNS=3 BENCH_PROFILES=small-64 \
	bash "$run_bench" "$gen" "$pipeline" "$rules" "$build" >"$tmp/rb.txt" 2>&1 ||
	{ cat "$tmp/rb.txt"; fail "run_bench.sh exited non-zero"; }
grep -Eq '^scaling small-64 +2 workers [0-9.]+x one by medians, [0-9.]+x by fastest runs' \
	"$tmp/rb.txt" || { tail -5 "$tmp/rb.txt"; fail "run_bench.sh: no scaling line"; }
[[ $(wc -l <"$tmp/rb/results.jsonl") == 2 ]] || fail "run_bench.sh: results.jsonl is not 2 lines"

[[ $failed == 0 ]] && echo "bench smoke: OK"
exit $((failed > 0))
