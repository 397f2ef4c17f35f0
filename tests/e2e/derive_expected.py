#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""derive_expected: the expected transaction log of a lab capture, in the format of
tests/corpus (README there), without the sensor. Standard library + tshark.

usage: derive_expected.py PCAP OUT_JSON [--notes TEXT] [--packages FILE]

tshark gives the bytes each side sent in every TCP connection (follow,tcp,raw): the client's
bytes are what the lab's scripts sent, the server's are what postfix answered. They are
replayed through the rules of Zeek's scripts/base/protocols/smtp/main.zeek (when a record
starts, what each command sets, which reply is last_reply, when a record is written), plus
the sensor's own auth_mech / auth_user / auth_result (last AUTH of the session, user name
from PLAIN, LOGIN or CRAM-MD5; the password is never decoded into the output). The replies
are cross-checked against tshark's own SMTP dissector (smtp.response.code, reply by reply).

Two deliberate differences from Zeek: "subject" is RFC 2047-decoded to UTF-8, as the sensor's
record keeps it (sensor/smtp_tx.h; the raw header goes to "notes"), and a To:/Cc: entry whose
quoted display name holds a comma stays one entry (Zeek splits it when a space precedes the
quote).
"""
import argparse
import base64
import binascii
import json
import re
import subprocess
import sys

ADDR_RE = re.compile(r"(^|[<,:\s])[^<,:\s@]+@[^>,;\s]+([>,;\s]|$)")
EW_RE = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")


def tshark(*args):
    out = subprocess.run(["tshark", "-n", *args], check=True, capture_output=True, text=True)
    return out.stdout


def zeek_addrs(arg):
    """extract_email_addrs_vec() of Zeek's base/utils/email.zeek."""
    out, pos = [], 0
    while True:
        m = ADDR_RE.search(arg, pos)
        if not m:
            return out
        out.append(re.sub(r"[<>,:;\s]", "", m.group(0)))
        pos = m.end() if m.end() > m.start() else m.start() + 1


def split_mime_addrs(value):
    """Address list -> entries as written, stripped. Like Zeek's split_mime_email_addresses()
    but a comma inside a quoted display name or <...> does not split (Zeek's regex only
    protects a quoted name that follows the comma without a space)."""
    parts, cur, quoted, angle, esc = [], "", False, False, False
    for ch in value:
        if esc:
            esc = False
        elif ch == "\\" and quoted:
            esc = True
        elif ch == '"' and not angle:
            quoted = not quoted
        elif ch == "<" and not quoted:
            angle = True
        elif ch == ">" and not quoted:
            angle = False
        elif ch == "," and not quoted and not angle:
            parts.append(cur)
            cur = ""
            continue
        cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def rfc2047(value):
    """Decode encoded words; whitespace between two adjacent encoded words is dropped."""
    out, pos, prev_ew = [], 0, False
    for m in EW_RE.finditer(value):
        gap = value[pos:m.start()]
        if not (prev_ew and gap.strip() == ""):
            out.append(gap)
        cs, enc, text = m.group(1).split("*")[0], m.group(2).upper(), m.group(3)
        if enc == "B":
            raw = base64.b64decode(text + "=" * (-len(text) % 4))
        else:
            raw = re.sub(r"=([0-9A-Fa-f]{2})", lambda x: chr(int(x.group(1), 16)),
                         text.replace("_", " ")).encode("latin-1")
        out.append(raw.decode(cs))
        pos, prev_ew = m.end(), True
    out.append(value[pos:])
    return "".join(out)


def streams(pcap):
    """tcp.stream -> (client ip, client port, server ip, server port) from the SYNs."""
    res = {}
    for ln in tshark("-r", pcap, "-Y", "tcp.flags.syn==1 && tcp.flags.ack==0", "-T", "fields",
                     "-e", "tcp.stream", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport",
                     "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport").splitlines():
        f = ln.split("\t")
        res.setdefault(int(f[0]), (f[1] or f[2], int(f[3]), f[4] or f[5], int(f[6])))
    return res


def follow(pcap, stream, client):
    """Bytes sent by the client and by the server, in order, as two byte strings."""
    text = tshark("-r", pcap, "-q", "-z", "follow,tcp,raw,%d" % stream)
    node0 = re.search(r"^Node 0: (.*):(\d+)$", text, re.M)
    c_is_0 = node0 and node0.group(1).strip("[]") == client[0] and int(node0.group(2)) == client[1]
    data = {True: b"", False: b""}
    body = text.split("Node 1:", 1)[1].split("\n", 1)[1]
    for ln in body.splitlines():
        if not ln.strip() or ln.startswith("==="):
            continue
        from_node1 = ln.startswith("\t")
        data[from_node1 != c_is_0] += binascii.unhexlify(ln.strip())
    return data[True], data[False]


class Lines:
    def __init__(self, b):
        self.b, self.pos = b, 0

    def line(self):
        i = self.b.find(b"\r\n", self.pos)
        if i < 0:
            return None
        ln, self.pos = self.b[self.pos:i], i + 2
        return ln.decode("utf-8", "replace")

    def take(self, n):
        chunk, self.pos = self.b[self.pos:self.pos + n], self.pos + n
        return chunk


def replies(server):
    """[[(code, text), ...] per reply] in order."""
    res, cur, lines = [], [], Lines(server)
    while True:
        ln = lines.line()
        if ln is None or not ln[:3].isdigit():
            return res	# end, or TLS after STARTTLS
        cur.append((int(ln[:3]), ln[4:]))
        if len(ln) < 4 or ln[3] != "-":
            res.append(cur)
            cur = []


def headers(msg):
    """Top-level header fields of a message: [(NAME, unfolded value)]."""
    out = []
    for ln in msg.split(b"\r\n"):
        if ln == b"":
            break
        s = ln.decode("utf-8", "replace")
        if s[:1] in (" ", "\t") and out:
            out[-1][1] += s
        elif ":" in s:
            name, _, val = s.partition(":")
            out.append([name.strip().upper(), val])
    return [(n, v.strip()) for n, v in out]


class Session:
    """Zeek's SMTP::Info / SMTP::State for one connection, plus the sensor's AUTH fields."""

    def __init__(self, tup):
        self.tup, self.records, self.helo, self.depth = tup, [], None, 0
        self.auth = {}
        self.info = None
        self.new()

    def new(self):
        self.info = {"trans_depth": self.depth + 1, "path": [self.tup[2], self.tup[0]],
                     "tls": False}
        if self.helo is not None:
            self.info["helo"] = self.helo
        self.active = False
        self.raw_subject = None

    def flush(self):
        if self.active:
            rec = dict(self.info)
            rec.update(self.auth)
            rec["_raw_subject"] = self.raw_subject
            self.records.append(rec)
            self.new()

    def header(self, name, value):
        i = self.info
        simple = {"MESSAGE-ID": "msg_id", "IN-REPLY-TO": "in_reply_to", "FROM": "from",
                  "REPLY-TO": "reply_to", "DATE": "date", "X-MAILER": "user_agent",
                  "USER-AGENT": "user_agent", "X-USER-AGENT": "user_agent"}
        if name in simple:
            i[simple[name]] = value
        elif name == "SUBJECT":
            i["subject"], self.raw_subject = rfc2047(value), value
        elif name in ("TO", "CC"):
            lst = i.setdefault(name.lower(), [])
            lst += [a for a in split_mime_addrs(value) if a not in lst]
        elif name == "RECEIVED":
            raise SystemExit("Received: headers are not modelled (path); keep them out")


def auth_user(mech, responses):
    """User name from the client's AUTH responses (base64), never the password."""
    try:
        first = base64.b64decode(responses[0]) if responses else b""
    except (binascii.Error, ValueError):
        return None
    if mech == "PLAIN":
        parts = first.split(b"\0")
        return parts[1].decode() if len(parts) == 3 else None
    if mech == "LOGIN":
        return first.decode() if first else None
    if mech == "CRAM-MD5":
        return first.rsplit(b" ", 1)[0].decode() if b" " in first else None
    return None


def replay(tup, client, server):
    """Walk the client's commands, pairing each with the next reply, as Zeek would."""
    s, reps, cl, codes = Session(tup), replies(server), Lines(client), []
    ri, bdat = 0, b""

    def reply(cmd):
        nonlocal ri
        if ri >= len(reps):
            return None
        rep, ri = reps[ri], ri + 1
        codes.append(rep[0][0])
        for code, text in rep:
            s.info["last_reply"] = "%d %s" % (code, text)
        return rep[-1][0]

    reply("greeting")
    while True:
        ln = cl.line()
        if ln is None:
            break
        verb, _, arg = ln.partition(" ")
        verb = verb.upper()
        if verb in ("HELO", "EHLO"):
            s.helo = s.info["helo"] = arg
        elif verb == "MAIL" and arg[:5].upper() == "FROM:":
            s.flush()
            a = zeek_addrs(arg)
            if a and a[0]:
                s.info["mailfrom"] = a[0]
            s.active = True
        elif verb == "RCPT" and arg[:3].upper() == "TO:":
            lst = s.info.setdefault("rcptto", [])
            lst += [a for a in zeek_addrs(arg) if a not in lst]
            s.active = True
        if verb == "AUTH":
            words = arg.split(" ")
            mech, resp = words[0].upper(), words[1:2]
            code = reply(verb)
            while code == 334:
                resp.append(cl.line() or "")
                code = reply("auth-response")
            s.auth = {"auth_mech": mech, "auth_result":
                      "success" if code == 235 else "tempfail" if 400 <= (code or 0) < 500
                      else "aborted" if resp and resp[-1] == "*" else "failure"}
            user = auth_user(mech, [r for r in resp if r != "="])
            if user:
                s.auth["auth_user"] = user
            continue
        if verb == "BDAT":
            n, _, last = arg.partition(" ")
            bdat += cl.take(int(n))
            if last.upper() == "LAST":
                for name, value in headers(bdat):
                    s.header(name, value)
                bdat = b""
                reply(verb)
                s.depth += 1
                s.flush()
                s.new()
            else:
                reply(verb)
            continue
        code = reply(verb)
        if verb == "DATA" and code == 354:
            end = client.find(b"\r\n.\r\n", cl.pos - 2)
            msg = client[cl.pos:end + 2]
            cl.pos = end + 5
            msg = re.sub(rb"(^|\r\n)\.\.", rb"\1.", msg)
            for name, value in headers(msg):
                s.header(name, value)
            reply(".")
            s.depth += 1
            s.flush()
            s.new()
        elif verb == "STARTTLS" and code == 220:
            s.info["tls"] = True
            s.active = True
            break
    if not s.info.get("tls"):
        while ri < len(reps):	# replies after the client's last command (timeouts...)
            reply("unsolicited")
    s.flush()
    return s, codes


def tshark_codes(pcap, stream):
    out = tshark("-r", pcap, "-Y", "tcp.stream==%d && smtp.response.code" % stream,
                 "-T", "fields", "-e", "smtp.response.code", "-E", "aggregator=,")
    return [int(c) for ln in out.split() for c in ln.split(",")]


def entry(tup, rec):
    e = {"id.orig_h": tup[0], "id.orig_p": tup[1], "id.resp_h": tup[2], "id.resp_p": tup[3]}
    order = ["trans_depth", "helo", "mailfrom", "rcptto", "date", "from", "to", "cc",
             "reply_to", "msg_id", "in_reply_to", "subject", "last_reply", "path",
             "user_agent", "tls", "auth_mech", "auth_user", "auth_result"]
    e.update((k, rec[k]) for k in order if k in rec)
    absent = [k for k in ("auth_mech", "auth_user", "auth_result") if k not in rec]
    if rec.get("tls") and "mailfrom" not in rec:
        absent += ["mailfrom", "rcptto"]	# they went inside TLS
    if absent:
        e["absent"] = absent
    return e


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pcap")
    ap.add_argument("out")
    ap.add_argument("--notes", default="")
    ap.add_argument("--packages", help="JSON file: package -> version")
    ap.add_argument("--capture", help="capture path as written in the JSON")
    args = ap.parse_args()
    txs, notes, n_sessions = [], [args.notes] if args.notes else [], 0
    for stream, tup in sorted(streams(args.pcap).items()):
        client, server = follow(args.pcap, stream, tup)
        if not re.match(rb"\d\d\d[ -]", server):
            continue	# not SMTP (no greeting)
        n_sessions += 1
        sess, codes = replay(tup, client, server)
        recs = sess.records
        want = tshark_codes(args.pcap, stream)
        if codes != want:
            sys.exit("%s stream %d: replies %s, tshark says %s" % (args.pcap, stream, codes, want))
        for r in recs:
            if r.get("_raw_subject") and r["_raw_subject"] != r.get("subject"):
                notes.append("stream %d trans_depth %d raw Subject: %s"
                             % (stream, r["trans_depth"], r["_raw_subject"]))
        txs += [entry(tup, r) for r in recs]
        if not recs:
            # Zeek writes nothing for a session without MAIL, RCPT or STARTTLS; the sensor
            # keeps a session record, which carries the AUTH facts: compare it as a set.
            agg = {"session_aggregate": True, "id.orig_h": tup[0], "id.orig_p": tup[1],
                   "id.resp_h": tup[2], "id.resp_p": tup[3]}
            if sess.helo is not None:
                agg["helo"] = [sess.helo]
            agg.update((k, [v]) for k, v in sess.auth.items())
            txs.append(agg)
    if not any("trans_depth" in t for t in txs):
        txs.append({"count": 0, "count_source": "no MAIL/RCPT/STARTTLS in any session: "
                    "Zeek writes no smtp.log line, so no transaction record"})
    pkgs = json.load(open(args.packages)) if args.packages else {}
    exp = {
        "capture": args.capture or args.pcap,
        "source": {"repo": "relaywatch", "generator": "tests/e2e/gen_captures.sh",
                   "expected_from": ["tshark follow,tcp,raw of the capture, replayed with the "
                                     "rules of Zeek scripts/base/protocols/smtp/main.zeek "
                                     "(tests/e2e/derive_expected.py)"],
                   "packages": pkgs},
        "smtp_sessions": n_sessions,
        "transactions": txs,
        "order_matters": sum(1 for t in txs if "trans_depth" in t) > 1,
        "notes": " ".join(notes + [
            "rcptto/to/cc are sets (order not significant); rcptto holds every RCPT TO, "
            "accepted or not (Zeek); last_reply is the last reply line before the record was "
            "written (Zeek: a transaction without DATA ends at QUIT, so 221); subject is "
            "RFC 2047-decoded (sensor/smtp_tx.h), raw value above when it differs."]),
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(exp, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
