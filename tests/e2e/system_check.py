#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Checks of the system end-to-end tests against the collector's SQLite store.

    system_check.py alerts DB SENSOR=ALERTS.JSON ...
        The alerts table holds exactly the lines of each sensor's alerts.json,
        each once: the multisets of (sensor, kind, host, account, alert seq,
        time to the microsecond) are equal. Prints "N alerts" or the difference.
    system_check.py stderr-counts FILE
        The numbers of a sensor's run summary on stderr as JSON: frames acked,
        sent, re-sent, sessions, reconnects, left in the spool, and the
        dropped frames by type and reason.
"""
import collections
import decimal
import json
import re
import sqlite3
import sys


def json_alerts(sensor, path):
    out = []
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            a = json.loads(line, parse_float=decimal.Decimal)
            us = int((a["ts"] * 1000000).to_integral_value())
            out.append((sensor, a["kind"], a["host"], a.get("account", ""), a.get("seq", 0), us))
    return out


def db_alerts(db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = con.execute("SELECT sensor_id, kind, host, account, alert_seq, ts_ns FROM alerts")
    out = [(s, k, h, acc, seq, (ts + 500) // 1000) for s, k, h, acc, seq, ts in rows]
    con.close()
    return out


def check_alerts(db, pairs):
    want = collections.Counter()
    for p in pairs:
        sensor, path = p.split("=", 1)
        want.update(json_alerts(sensor, path))
    got = collections.Counter(db_alerts(db))
    if got == want:
        print(f"{sum(got.values())} alerts")
        return 0
    missing, extra = want - got, got - want
    print(f"store: {sum(got.values())} alerts, alerts.json: {sum(want.values())}; "
          f"missing {sum(missing.values())}, extra or duplicated {sum(extra.values())}")
    for a in list(missing)[:5]:
        print("  missing", a)
    for a in list(extra)[:5]:
        print("  extra", a, "x", extra[a])
    return 1


def stderr_counts(path):
    with open(path, errors="replace") as f:
        text = f.read()
    out = {}
    m = re.search(r"collector \S+: (\d+) frames acknowledged, (\d+) sent \((\d+) re-sent.*?"
                  r"(\d+) sessions?, (\d+) reconnects?, (\d+) frames left in the spool", text)
    if m:
        for k, v in zip(("acked", "sent", "resent", "sessions", "reconnects", "left"), m.groups()):
            out[k] = int(v)
    m = re.search(r"collector frames dropped: (.*)", text)
    for cls, total, spool, handoff, big in re.findall(
            r"(\w+) (\d+) \(spool full (\d+), hand-off full (\d+), too big (\d+)\)",
            m.group(1) if m else ""):
        out[f"dropped_{cls}"] = int(total)
        out[f"spool_full_{cls}"] = int(spool)
    print(json.dumps(out))
    return 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "alerts":
        return check_alerts(argv[2], argv[3:])
    if len(argv) == 3 and argv[1] == "stderr-counts":
        return stderr_counts(argv[2])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
