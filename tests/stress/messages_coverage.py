#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Which user-visible error messages no test names (the lint-messages test).

usage: tests/stress/messages_coverage.py [--check] [TOP]

Takes every log_err()/errbuf_set() format in sensor/, dataplane/, exporters/
and collector/, keeps its longest literal fragment (6+ characters between
conversions) and looks for it in tests/ (*.c, *.sh, *.py, *.yaml). Prints
the messages whose fragment appears nowhere: candidates for a row in
tests/stress/messages.sh or a unit test. A heuristic: a message checked by a
different fragment is reported too. A message no test can trigger is named,
with the reason, in the "Not triggered by a test, and why:" comment of
messages.sh or messages_io.sh. --check: exit 1 when any message is left.
"""
import glob
import os
import re
import sys


def main(argv):
    check = "--check" in argv
    argv = [a for a in argv if a != "--check"]
    top = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    os.chdir(top)
    tests = []
    for root, _, files in os.walk("tests"):
        for f in files:
            if f.endswith((".c", ".sh", ".py", ".yaml")):
                with open(os.path.join(root, f), errors="replace") as fh:
                    tests.append(fh.read())
    tests = "\n".join(tests)
    msgs = []
    for f in sorted(glob.glob("sensor/*.c") + glob.glob("dataplane/*.c") +
                    glob.glob("exporters/*.c") + glob.glob("collector/*.c")):
        s = open(f).read()
        for m in re.finditer(r"(log_err|errbuf_set)\s*\((.*?)\);", s, re.S):
            # The format: the first run of adjacent literals (later ones are arguments,
            # as in `cond ? "a" : "b"`), with \" and \\ as the tests write them.
            # An inttypes.h macro between literals (`"%" PRIu64 " bytes"`) is a conversion.
            lits = re.search(r'"(?:[^"\\]|\\.)*"(?:\s*(?:PRI[diouxX]\w*\s*)?"(?:[^"\\]|\\.)*")*',
                             m.group(2))
            run = re.sub(r'"\s*PRI[diouxX]\w*\s*"', 'd', lits.group(0)) if lits else ""
            fmt = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', run))
            fmt = fmt.replace('\\"', '"').replace("\\\\", "\\")
            frags = [x.strip() for x in re.split(r"%[-+ #0-9.*]*[a-zA-Z]+|\\n", fmt)
                     if len(x.strip()) >= 6]
            if frags:
                msgs.append((f, s[:m.start()].count("\n") + 1, fmt, max(frags, key=len)))
    untested = [m for m in msgs if m[3] not in tests]
    for f, line, fmt, _ in untested:
        print("%s:%d: %s" % (f, line, fmt[:100]))
    print("%d messages, %d named by a test, %d not" % (len(msgs), len(msgs) - len(untested),
                                                      len(untested)))
    return 1 if check and untested else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
