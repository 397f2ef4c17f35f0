#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""check_alerts: assert what relaywatch's alerts.json (one JSON object per line, see
exporters/alert_json.c) says about a scenario. Standard library only.

usage: check_alerts.py ALERTS_JSON [--label TEXT] [--strict] EXPECT...

EXPECT is one of
  +KIND@HOST            an alert of KIND names HOST
  +KIND@HOST#ACCOUNT    ... and ACCOUNT (compared without case)
  -KIND@HOST            no alert of KIND names HOST (whatever the account)
  -KIND@HOST#ACCOUNT    no alert of KIND names HOST with ACCOUNT
  -KIND                 no alert of KIND at all
  ~KIND@HOST[#ACCOUNT]  allowed: only matters with --strict
A + expectation also wants the alert's evidence: a severity and a time, a counter at or
past its threshold, an example value, and flow uids that are all in the smtp.json beside
ALERTS_JSON (when it is there). With --strict every alert in the file must be expected (+)
or allowed (~): nothing fires that the scenario did not foresee. An alert repeated with a higher seq counts once. Prints
one line per expectation; exits 0 when all hold, 1 otherwise (and lists the alerts), 2 on
bad usage or an unreadable file.
"""
import argparse
import ipaddress
import json
import os
import sys

KINDS = {"open_relay", "relay_probe", "auth_bruteforce", "auth_spray", "compromised_account",
         "direct_mx_bot", "blocklisted", "recipient_harvest", "bounce_storm", "mass_recipients",
         "spoofed_home_domain", "content_signature", "volume_anomaly"}


def norm_host(h):
    try:
        return str(ipaddress.ip_address(h))
    except ValueError:
        return h


def parse_expect(s):
    if not s or s[0] not in "+-~":
        raise ValueError("expectation must start with +, - or ~: %r" % s)
    op, rest = s[0], s[1:]
    kind, _, target = rest.partition("@")
    host, _, account = target.partition("#")
    if kind not in KINDS:
        raise ValueError("unknown kind %r in %r" % (kind, s))
    if not host and op != "-":
        raise ValueError("%r needs @HOST" % s)
    return op, kind, norm_host(host) if host else None, account.lower() or None


def load(path):
    alerts = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                a = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError("%s:%d: not JSON: %s" % (path, n, e)) from e
            key = (a.get("kind"), norm_host(a.get("host", "")), (a.get("account") or "").lower())
            if key not in alerts or a.get("seq", 0) >= alerts[key].get("seq", 0):
                alerts[key] = a
    return alerts


def matches(key, kind, host, account):
    return key[0] == kind and (host is None or key[1] == host) and \
        (account is None or key[2] == account)


def known_uids(alerts_path):
    """The uids of the smtp.json written with ALERTS_JSON, or None without one."""
    path = os.path.join(os.path.dirname(alerts_path), "smtp.json")
    if not os.path.exists(path):
        return None
    uids = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                uids.add(json.loads(line).get("uid"))
    return uids


def evidence_problem(a, uids):
    """What is missing from an alert's evidence, or None."""
    if not a.get("severity") or not a.get("ts"):
        return "no severity or time"
    if not any(c.get("value", 0) >= c.get("threshold", 0) > 0 for c in a.get("counters", [])):
        return "no counter at or past its threshold"
    if not a.get("examples"):
        return "no example values"
    if not a.get("uids"):
        return "no flows"
    if uids is not None and not set(a["uids"]) <= uids:
        return "flows not in smtp.json: %s" % sorted(set(a["uids"]) - uids)
    return None


def describe(key):
    return "%s@%s%s" % (key[0], key[1], "#" + key[2] if key[2] else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("alerts")
    ap.add_argument("--label", default="")
    ap.add_argument("--strict", action="store_true")
    # Expectations start with "-": keep them away from argparse.
    argv = sys.argv[1:]
    opts = [a for i, a in enumerate(argv)
            if not a[:1] in "+-~" or a.startswith("--") or (i and argv[i - 1] == "--label")]
    args = ap.parse_args(opts)
    args.expect = [a for a in argv if a not in opts]
    try:
        expects = [parse_expect(e) for e in args.expect]
        alerts = load(args.alerts)
        uids = known_uids(args.alerts)
    except (ValueError, OSError) as e:
        print("check_alerts: %s" % e, file=sys.stderr)
        return 2
    label = args.label + ": " if args.label else ""
    failed = 0
    covered = set()
    for (op, kind, host, account), text in zip(expects, args.expect):
        hits = [k for k in alerts if matches(k, kind, host, account)]
        if op in "+~":
            covered.update(hits)
        if op == "~":
            continue
        ok = bool(hits) if op == "+" else not hits
        verdict = "fires" if hits else "silent"
        if ok and op == "+":
            for k in hits:
                why = evidence_problem(alerts[k], uids)
                if why:
                    ok = False
                    verdict = "fires, but %s: %s" % (describe(k), why)
                    break
            else:
                a = alerts[hits[0]]
                verdict = "fires, %s, %d flow(s)" % (", ".join(
                    "%s %g" % (c["name"], c["value"]) for c in a["counters"]), len(a["uids"]))
        if not ok:
            failed += 1
        print("%s%s %s (%s)" % (label, "ok  " if ok else "FAIL", text, verdict))
    if args.strict:
        for k in sorted(set(alerts) - covered):
            failed += 1
            print("%sFAIL unexpected alert %s: %s" % (label, describe(k), alerts[k].get("message")))
    if failed:
        print("%salerts in %s:" % (label, args.alerts))
        for k in sorted(alerts):
            print("  %s: %s" % (describe(k), alerts[k].get("message")))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
