#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""scen_send: the scripted SMTP client of the e2e scenarios (tests/e2e/scenarios.sh), for
the traffic that swaks would need a loop for: many sessions, many messages per session,
several AUTH attempts in one session, null senders, long To:/Cc: lists. Standard library
only (smtplib); every loop is bounded by --sessions, --messages and --deadline.

usage: scen_send.py --server IP [--port 25] [--source IP] [--helo NAME]
	[--sessions N] [--messages M] [--auth USER --password P [--password P2 ...]]
	[--mail-from ADDR] --rcpt ADDR [--rcpt ADDR ...] [--to ADDR,...] [--cc ADDR,...]
	[--subject S] [--body-file F] [--want PHASE:CODE=COUNT ...]

--password may be repeated: the passwords are tried in order in every session (PLAIN) until
one is accepted; a session whose AUTH never succeeds sends no mail and quits. --mail-from ""
is the null sender (MAIL FROM:<>). Prints the reply codes it got per phase as JSON; with
--want, exits 1 unless each PHASE (connect, auth, mail, rcpt, data) got CODE exactly COUNT
times, so a scenario knows the servers really answered as it meant them to.
"""
import argparse
import json
import smtplib
import socket
import sys
import time
from collections import Counter


def message(args, n, rcpts):
    to = args.to.split(",") if args.to else rcpts
    lines = ["Date: Tue, 02 Jan 2024 10:00:00 +0000",
             "From: %s" % (args.from_header or args.mail_from or "MAILER-DAEMON@example.net")]
    # One address per line: a long list stays within the 998-octet line limit.
    lines.append("To: " + ",\r\n\t".join(a.strip() for a in to))
    if args.cc:
        lines.append("Cc: " + ",\r\n\t".join(a.strip() for a in args.cc.split(",")))
    lines += ["Subject: %s" % args.subject,
              "Message-ID: <%s.%d.%d@scenario.example>" % (args.tag, n, int(time.time() * 1e6)),
              "X-Mailer: relaywatch-lab scen_send",
              "MIME-Version: 1.0",
              "Content-Type: text/plain; charset=utf-8",
              "Content-Transfer-Encoding: 8bit", ""]
    body = args.body
    if args.body_file:
        with open(args.body_file, encoding="utf-8") as f:
            body = f.read()
    lines += body.replace("\r\n", "\n").split("\n")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def try_auth(s, args, got):
    """True when one of the passwords was accepted."""
    s.user = args.auth
    for pw in args.password:
        s.password = pw
        try:
            code, _ = s.auth("PLAIN", s.auth_plain, initial_response_ok=True)
        except smtplib.SMTPAuthenticationError as e:
            code = e.smtp_code
        except smtplib.SMTPException:
            code = 0
        got["auth"][str(code)] += 1
        if 200 <= code < 300:
            return True
    return False


def one_session(args, got, counter):
    src = (args.source, 0) if args.source else None
    s = smtplib.SMTP(timeout=args.timeout, local_hostname=args.helo, source_address=src)
    try:
        code, _ = s.connect(args.server, args.port)
        got["connect"][str(code)] += 1
        s.ehlo()
        if args.auth and not try_auth(s, args, got):
            return
        for _ in range(args.messages):
            counter[0] += 1
            code, _ = s.mail(args.mail_from)
            got["mail"][str(code)] += 1
            if not 200 <= code < 300:
                s.rset()
                continue
            ok = []
            for r in args.rcpt:
                code, _ = s.rcpt(r)
                got["rcpt"][str(code)] += 1
                if 200 <= code < 300:
                    ok.append(r)
            if not ok:
                s.rset()
                continue
            code, _ = s.data(message(args, counter[0], ok))
            got["data"][str(code)] += 1
    finally:
        try:
            s.quit()
        except (smtplib.SMTPException, OSError):
            s.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", required=True)
    ap.add_argument("--port", type=int, default=25)
    ap.add_argument("--source")
    ap.add_argument("--helo", default="client.scenario.example")
    ap.add_argument("--sessions", type=int, default=1)
    ap.add_argument("--messages", type=int, default=1)
    ap.add_argument("--auth")
    ap.add_argument("--password", action="append", default=[])
    ap.add_argument("--mail-from", default="sender@example.net")
    ap.add_argument("--from-header")
    ap.add_argument("--rcpt", action="append", default=[])
    ap.add_argument("--to")
    ap.add_argument("--cc")
    ap.add_argument("--subject", default="scenario message")
    ap.add_argument("--body", default="An ordinary message of the relaywatch lab.\n")
    ap.add_argument("--body-file")
    ap.add_argument("--tag", default="scen")
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--deadline", type=float, default=120, help="seconds for the whole run")
    ap.add_argument("--want", action="append", default=[])
    args = ap.parse_args()
    if not args.rcpt:
        ap.error("at least one --rcpt")
    if not 1 <= args.sessions <= 1000 or not 1 <= args.messages <= 1000:
        ap.error("--sessions and --messages: 1..1000")

    got = {p: Counter() for p in ("connect", "auth", "mail", "rcpt", "data")}
    counter = [0]
    end = time.monotonic() + args.deadline
    errors = 0
    for _ in range(args.sessions):
        if time.monotonic() > end:
            print("scen_send: deadline passed", file=sys.stderr)
            errors += 1
            break
        try:
            one_session(args, got, counter)
        except (smtplib.SMTPException, OSError, socket.timeout) as e:
            print("scen_send: session failed: %r" % e, file=sys.stderr)
            errors += 1
    summary = {p: dict(c) for p, c in got.items() if c}
    print(json.dumps(summary, sort_keys=True))
    bad = errors > 0
    for w in args.want:
        phase, _, rest = w.partition(":")
        code, _, count = rest.partition("=")
        have = got.get(phase, Counter()).get(code, 0)
        if have != int(count):
            print("scen_send: want %s, got %d" % (w, have), file=sys.stderr)
            bad = True
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
