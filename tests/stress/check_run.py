#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Check one sensor run of the stress suite: its counters, its memory, and that
the legitimate sessions of the capture are in the transaction log.

usage: check_run.py OUTDIR [--legit N] [--base BASEDIR] [EXPR ...]
       check_run.py --json-only OUTDIR...

OUTDIR holds stats.json and smtp.json of the run (relaywatch -l OUTDIR) and
rss, the run's peak RSS in KiB (/usr/bin/time -f %M -o OUTDIR/rss).
--legit N     smtp.json has exactly one complete transaction from each
              legit-<i>@example.org, i < N (tests/stress/gen_hostile.c).
--base DIR    the same configuration on a capture of legitimate sessions
              only (code, libraries, the signature database, its own small
              tables). The run's peak RSS must stay under a bound made of the
              sensor's own accounting: the base's RSS less its tables, plus
              this run's mem_bytes and detector_mem_bytes (tables and pools
              made at start, from stats.json), the pcap reader's blocks and
              16 MiB of slack. No figure depends on time. (flood.sh adds
              that the tables held no more entries than their limits.)
EXPR          a Python expression over the stats.json keys (decode_drops is
              flattened to decode_<reason>), e.g. 'flows_evicted >= 900000'.
--json-only   only that the stats.json and smtp.json present in each OUTDIR
              are valid JSON (one interpreter for many runs).
Prints one line per check; exits 1 when any fails.
"""
import json
import os
import sys

PCAP_BLOCKS_KB = 16 * 4 * 1024  # dataplane/source_pcap_int.h: PCAP_N_BLOCKS x PCAP_BLOCK_MIN
SLACK_KB = 16 * 1024


def load_stats(outdir):
    with open(outdir + "/stats.json") as f:
        st = json.load(f)
    for k, v in st.pop("decode_drops", {}).items():
        st["decode_" + k] = v
    return st


def load_txs(outdir):
    txs = []
    with open(outdir + "/smtp.json") as f:
        for n, line in enumerate(f, 1):
            try:
                txs.append(json.loads(line))
            except ValueError as e:
                sys.exit("FAIL smtp.json line %d is not JSON: %s" % (n, e))
    return txs


def check_legit(txs, n):
    seen = {}
    for t in txs:
        mf = t.get("mailfrom", "")
        if mf.startswith("legit-") and mf.endswith("@example.org"):
            seen.setdefault(mf, []).append(t)
    missing = [i for i in range(n) if "legit-%d@example.org" % i not in seen]
    bad = [m for m, ts in seen.items()
           if len(ts) != 1 or not ts[0].get("complete") or ts[0].get("rcpt_count") != 1]
    ok = not missing and not bad
    print("%s legit sessions: %d/%d in smtp.json%s%s" % (
        "ok  " if ok else "FAIL", len(seen), n,
        ", missing %s" % missing[:10] if missing else "",
        ", wrong %s" % sorted(bad)[:5] if bad else ""))
    return ok


def read_rss(d):
    with open(d + "/rss") as f:
        return int(f.read().split()[-1])


def tables_kb(st):
    return (st["mem_bytes"] + st["detector_mem_bytes"]) // 1024


def check_rss(outdir, st, basedir):
    rss, base_rss = read_rss(outdir), read_rss(basedir)
    base = base_rss - load_stats(basedir)["mem_bytes"] // 1024
    bound = base + tables_kb(st) + PCAP_BLOCKS_KB + SLACK_KB
    ok = rss <= bound
    print("%s peak RSS %d KiB <= %d KiB (base %d + tables %d + pcap blocks %d + slack %d)" % (
        "ok  " if ok else "FAIL", rss, bound, base, tables_kb(st), PCAP_BLOCKS_KB, SLACK_KB))
    return ok


def json_only(dirs):
    bad = 0
    for d in dirs:
        try:
            if os.path.exists(d + "/stats.json"):
                load_stats(d)
            if os.path.exists(d + "/smtp.json"):
                load_txs(d)
        except (ValueError, SystemExit) as e:
            print("FAIL %s: %s" % (d, e))
            bad += 1
    print("%s %d run outputs are valid JSON" % ("ok  " if not bad else "FAIL", len(dirs) - bad))
    return 1 if bad else 0


def main(argv):
    args = argv[1:]
    if not args:
        sys.exit(__doc__)
    outdir = args.pop(0)
    if outdir == "--json-only":
        return json_only(args)
    legit = base = None
    exprs = []
    while args:
        a = args.pop(0)
        if a == "--legit":
            legit = int(args.pop(0))
        elif a == "--base":
            base = args.pop(0)
        else:
            exprs.append(a)
    st = load_stats(outdir)
    txs = load_txs(outdir)
    ok = True
    if legit is not None:
        ok &= check_legit(txs, legit)
    if base is not None:
        ok &= check_rss(outdir, st, base)
    env = dict(st)
    env["txs"] = txs
    for e in exprs:
        try:
            r = bool(eval(e, {"__builtins__": {"len": len, "any": any, "all": all,
                                               "max": max, "min": min, "sum": sum}}, env))
        except Exception as ex:  # a missing key is a failure, said as such
            print("FAIL %s: %s" % (e, ex))
            ok = False
            continue
        names = sorted(k for k in st if k in e)
        print("%s %s   (%s)" % ("ok  " if r else "FAIL", e,
                                ", ".join("%s=%s" % (k, st[k]) for k in names)))
        ok &= r
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
