#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write a classic pcap of SMTP submissions that log in with known passwords.

usage: gen_auth_pcap.py OUT.pcap PASSWORD_PREFIX EHLO_NAME USER FILLER_SESSIONS

Sessions (client 192.0.2.10, server 198.51.100.20:587), each with its own
client port and a password PREFIX + a unique tail:
  plain        AUTH PLAIN with an initial response, one segment, a long
               authzid before the password: the longest frame of the capture
  plain-split  the same line cut in two segments mid-password: the second
               half waits in the parser's line buffer
  login        AUTH LOGIN, user and password on their own lines
  login-split  the password line cut in two segments
  login-ooo    the password line's second half arrives before its first
               (TCP reassembly copies it into its segment pool)
  plain-open   an AUTH PLAIN line whose end never comes (the flow stays open,
               the half line stays in the line buffer)
Then FILLER_SESSIONS sessions without AUTH (EHLO filler-I.example.net), enough
packets that the sensor has parsed every AUTH session while it waits for more
input. The EHLO name and USER
appear on the wire only in the AUTH sessions, USER only inside base64: seeing
USER in clear in the sensor's memory proves the AUTH exchanges were parsed.
"""
import base64
import struct
import sys

CLI, SRV = bytes([192, 0, 2, 10]), bytes([198, 51, 100, 20])


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Flow:
    def __init__(self, out, sport, t):
        self.out, self.sport, self.t = out, sport, t
        self.seq = {0: 1000, 1: 5000}  # 0: client -> server, 1: server -> client

    def frame(self, d, flags, payload=b"", seq=None):
        src, dst = (CLI, SRV) if d == 0 else (SRV, CLI)
        sp, dp = (self.sport, 587) if d == 0 else (587, self.sport)
        seq = self.seq[d] if seq is None else seq
        tcp = struct.pack("!HHIIBBHHH", sp, dp, seq & 0xFFFFFFFF, self.seq[1 - d],
                          5 << 4, flags, 65535, 0, 0)
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
        tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp + payload)) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 1, 0, 64, 6,
                         0, src, dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00"
        pkt = eth + ip + tcp + payload
        self.t += 0.001
        sec = int(self.t)
        self.out.append(struct.pack("<IIII", sec, int((self.t - sec) * 1e6), len(pkt), len(pkt))
                        + pkt)

    def send(self, d, data):
        self.frame(d, 0x18, data)
        self.seq[d] += len(data)

    def handshake(self):
        self.frame(0, 0x02)
        self.seq[0] += 1
        self.frame(1, 0x12)
        self.seq[1] += 1
        self.frame(0, 0x10)

    def close(self):
        self.frame(0, 0x11)
        self.seq[0] += 1
        self.frame(1, 0x11)
        self.seq[1] += 1
        self.frame(0, 0x10)


def b64(s):
    return base64.b64encode(s.encode()).decode()


def session(out, sport, t, ehlo, auth, closed=True):
    f = Flow(out, sport, t)
    f.handshake()
    f.send(1, b"220 submit.example.com ESMTP\r\n")
    f.send(0, ("EHLO %s\r\n" % ehlo).encode())
    f.send(1, b"250-submit.example.com\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n")
    if auth:
        auth(f)
    if not closed:
        return f.t
    f.send(0, b"MAIL FROM:<sender@example.com>\r\n")
    f.send(1, b"250 2.1.0 Ok\r\n")
    f.send(0, b"RCPT TO:<dest@example.net>\r\n")
    f.send(1, b"250 2.1.5 Ok\r\n")
    f.send(0, b"DATA\r\n")
    f.send(1, b"354 go ahead\r\n")
    f.send(0, b"Subject: hello\r\n\r\nA message of no importance.\r\n.\r\n")
    f.send(1, b"250 2.0.0 Ok: queued\r\n")
    f.send(0, b"QUIT\r\n")
    f.send(1, b"221 2.0.0 Bye\r\n")
    f.close()
    return f.t


def main(argv):
    if len(argv) != 6:
        sys.exit(__doc__)
    path, prefix, ehlo, user, filler = argv[1], argv[2], argv[3], argv[4], int(argv[5])
    ok = b"235 2.7.0 Authentication successful\r\n"

    def plain(pw, cut=None, authz=""):
        def run(f):
            line = ("AUTH PLAIN %s\r\n" % b64("%s\0%s\0%s" % (authz, user, pw))).encode()
            for part in ([line] if cut is None else [line[:cut], line[cut:]]):
                f.send(0, part)
            f.send(1, ok)
        return run

    def login(pw, how=None):
        def run(f):
            f.send(0, b"AUTH LOGIN\r\n")
            f.send(1, b"334 VXNlcm5hbWU6\r\n")
            f.send(0, ("%s\r\n" % b64(user)).encode())
            f.send(1, b"334 UGFzc3dvcmQ6\r\n")
            line = ("%s\r\n" % b64(pw)).encode()
            if how is None:
                f.send(0, line)
            elif how == "split":
                f.send(0, line[:9])
                f.send(0, line[9:])
            else:  # the second half first, then the first: reassembly holds it
                f.frame(0, 0x18, line[9:], seq=f.seq[0] + 9)
                f.frame(0, 0x18, line[:9])
                f.seq[0] += len(line)
            f.send(1, ok)
        return run

    def plain_open(pw):
        def run(f):
            line = ("AUTH PLAIN %s" % b64("\0%s\0%s" % (user, pw))).encode()
            f.send(0, line)
        return run

    out, t, port = [], 1700000000.0, 40000
    # A long authzid puts the first password past the end of every later frame:
    # copies of the frame that nobody overwrites (libpcap's record buffer) keep it.
    cases = [plain(prefix + "plain", authz="authz-" + "z" * 90), plain(prefix + "plain-split", 50),
             login(prefix + "login"), login(prefix + "login-split", "split"),
             login(prefix + "login-ooo", "ooo")]
    for auth in cases:
        t = session(out, port, t, ehlo, auth)
        port += 1
    t = session(out, port, t, ehlo, plain_open(prefix + "plain-open"), closed=False)
    for i in range(filler):
        t = session(out, 50000 + i, t, "filler-%d.example.net" % i, None)
    hdr = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    with open(path, "wb") as fh:
        fh.write(hdr + b"".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
