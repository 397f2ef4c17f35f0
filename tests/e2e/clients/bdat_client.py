#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""bdat_client: send messages with BDAT (RFC 3030 CHUNKING), which swaks and smtplib
cannot do. Standard library only; used by tests/e2e/gen_captures.sh.

usage: bdat_client.py --server IP [--port 25] --helo NAME --mail-from ADDR --rcpt ADDR...
                      --tx CHUNKS:FILE [--tx CHUNKS:FILE ...] [--timeout 10]

One SMTP session, one transaction per --tx. FILE is the message (LF or CRLF line ends; sent
with CRLF, and BDAT needs no dot-stuffing). CHUNKS is a comma list of chunk sizes in octets:
the message is cut in that order, whatever is left over becomes one more chunk, and the last
chunk is sent as "BDAT n LAST"; a final size 0 sends the message in the listed chunks and then
an empty "BDAT 0 LAST". Commands are not pipelined: each reply is read before the next
command, so the capture shows a plain request/reply dialogue.
Exit status: 0 when every transaction was accepted, 1 otherwise, 2 on usage or I/O errors.
"""
import argparse
import socket
import sys


class Smtp:
    def __init__(self, host, port, timeout):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def line(self):
        for _ in range(100000):
            i = self.buf.find(b"\r\n")
            if i >= 0:
                out, self.buf = self.buf[:i], self.buf[i + 2:]
                return out.decode("utf-8", "replace")
            data = self.sock.recv(4096)
            if not data:
                raise EOFError("server closed the connection")
            self.buf += data
        raise EOFError("reply line too long")

    def reply(self):
        """One reply, all its lines; returns (code, [lines])."""
        lines = []
        for _ in range(1000):
            ln = self.line()
            lines.append(ln)
            sys.stderr.write("<- %s\n" % ln)
            if len(ln) < 4 or ln[3] != "-":
                return int(ln[:3]), lines
        raise EOFError("reply too long")

    def send(self, data, show=True):
        if show:
            sys.stderr.write("-> %s\n" % data.decode("utf-8", "replace").rstrip("\r\n"))
        self.sock.sendall(data)

    def cmd(self, text):
        self.send(text.encode("ascii") + b"\r\n")
        return self.reply()

    def close(self):
        self.sock.close()


def crlf(raw):
    """Normalise line ends to CRLF, ending with one."""
    body = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body


def cut(msg, sizes):
    """Chunks as described in the module doc: list of (bytes, last)."""
    chunks, pos = [], 0
    zero_last = bool(sizes) and sizes[-1] == 0
    if zero_last:
        sizes = sizes[:-1]
    for n in sizes:
        if pos >= len(msg):
            break
        chunks.append(msg[pos:pos + n])
        pos += n
    if pos < len(msg):
        chunks.append(msg[pos:])
    if zero_last:
        chunks.append(b"")
    return [(c, i == len(chunks) - 1) for i, c in enumerate(chunks)]


def transaction(s, args, sizes, msg):
    code, _ = s.cmd("MAIL FROM:<%s>" % args.mail_from)
    if code != 250:
        return False
    ok = 0
    for r in args.rcpt:
        code, _ = s.cmd("RCPT TO:<%s>" % r)
        ok += code == 250
    if not ok:
        s.cmd("RSET")
        return False
    for data, last in cut(msg, sizes):
        s.send(("BDAT %d%s\r\n" % (len(data), " LAST" if last else "")).encode("ascii"))
        s.send(data, show=False)
        sys.stderr.write("   (%d octets)\n" % len(data))
        code, _ = s.reply()
        if code != 250:
            return False
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", required=True)
    ap.add_argument("--port", type=int, default=25)
    ap.add_argument("--helo", required=True)
    ap.add_argument("--mail-from", required=True)
    ap.add_argument("--rcpt", action="append", required=True)
    ap.add_argument("--tx", action="append", required=True, metavar="CHUNKS:FILE")
    ap.add_argument("--timeout", type=float, default=10.0)
    args = ap.parse_args()
    txs = []
    for spec in args.tx:
        sizes, _, path = spec.partition(":")
        try:
            txs.append(([int(x) for x in sizes.split(",") if x != ""], crlf(open(path, "rb").read())))
        except (ValueError, OSError) as e:
            ap.error("--tx %s: %s" % (spec, e))
    try:
        s = Smtp(args.server, args.port, args.timeout)
        code, _ = s.reply()
        if code != 220:
            return 1
        code, lines = s.cmd("EHLO %s" % args.helo)
        if code != 250 or not any(ln[4:].upper().startswith("CHUNKING") for ln in lines):
            sys.stderr.write("server does not offer CHUNKING\n")
            return 1
        good = all([transaction(s, args, sizes, msg) for sizes, msg in txs])
        s.cmd("QUIT")
        s.close()
    except (OSError, EOFError, ValueError) as e:
        sys.stderr.write("bdat_client: %s\n" % e)
        return 2
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
