#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""dnsbl: a tiny DNS blocklist zone for the e2e lab, so that postfix's real
reject_rbl_client produces the real reply ("554 5.7.1 Service unavailable; Client host
[192.0.2.10] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.10").
Standard library only; answers UDP queries on one address inside a lab namespace.

usage: dnsbl.py --listen IP [--port 53] [--zone zen.spamhaus.org] LISTED_IP...

<reversed IP>.<zone> of a listed IPv4 or IPv6 address: A 127.0.0.2 and TXT
"https://www.spamhaus.org/query/ip/<IP>"; any other name: NXDOMAIN. Runs until killed;
every query and answer is logged on stderr.
"""
import argparse
import ipaddress
import socket
import struct
import sys

TYPE_A, TYPE_TXT = 1, 16


def reversed_name(ip, zone):
    a = ipaddress.ip_address(ip)
    if a.version == 4:
        labels = reversed(str(a).split("."))
    else:
        labels = reversed(a.exploded.replace(":", ""))
    return ".".join(labels) + "." + zone


def parse_query(pkt):
    """(id, flags, qname, qtype, end of question) or None."""
    if len(pkt) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", pkt[:6])
    if qd != 1 or flags & 0x8000:
        return None
    labels, pos = [], 12
    for _ in range(128):
        if pos >= len(pkt):
            return None
        n = pkt[pos]
        pos += 1
        if n == 0:
            break
        if n > 63 or pos + n > len(pkt):
            return None
        labels.append(pkt[pos:pos + n].decode("ascii", "replace").lower())
        pos += n
    if pos + 4 > len(pkt):
        return None
    qtype, _ = struct.unpack("!HH", pkt[pos:pos + 4])
    return qid, flags, ".".join(labels), qtype, pos + 4


def answer(pkt, listed):
    q = parse_query(pkt)
    if q is None:
        return None, "malformed"
    qid, flags, name, qtype, end = q
    rd = flags & 0x0100
    ip = listed.get(name)
    rrs = []
    if ip is not None and qtype == TYPE_A:
        rrs.append(struct.pack("!HHHIH", 0xC00C, TYPE_A, 1, 60, 4) + bytes([127, 0, 0, 2]))
    elif ip is not None and qtype == TYPE_TXT:
        txt = ("https://www.spamhaus.org/query/ip/%s" % ip).encode()
        rrs.append(struct.pack("!HHHIH", 0xC00C, TYPE_TXT, 1, 60, len(txt) + 1)
                   + bytes([len(txt)]) + txt)
    rcode = 0 if ip is not None else 3
    hdr = struct.pack("!HHHHHH", qid, 0x8400 | rd | rcode, 1, len(rrs), 0, 0)
    return hdr + pkt[12:end] + b"".join(rrs), "%s type %d -> %s" % (
        name, qtype, "listed" if ip is not None else "NXDOMAIN")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", required=True)
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--zone", default="zen.spamhaus.org")
    ap.add_argument("listed", nargs="*")
    args = ap.parse_args()
    listed = {reversed_name(ip, args.zone.lower()): ip for ip in args.listed}
    fam = socket.AF_INET6 if ":" in args.listen else socket.AF_INET
    sock = socket.socket(fam, socket.SOCK_DGRAM)
    sock.bind((args.listen, args.port))
    sys.stderr.write("dnsbl: %s on %s:%d, %d listed\n" % (args.zone, args.listen, args.port,
                                                          len(listed)))
    sys.stderr.flush()
    while True:
        pkt, peer = sock.recvfrom(4096)
        resp, what = answer(pkt, listed)
        sys.stderr.write("dnsbl: %s: %s\n" % (peer[0], what))
        sys.stderr.flush()
        if resp is not None:
            sock.sendto(resp, peer)


if __name__ == "__main__":
    main()
