#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""
reorder.py RELAYWATCH CAPTURE...: the two directions of a connection skewed, as a
multi-queue tap delivers them when one queue is drained late.

For each capture (real postfix and swaks traffic, both directions) and each delay D, every
packet of one side (server, then client) is moved D packets later; each direction keeps its
own order, as one RX queue does. The transactions in smtp.json must equal those of the
capture as recorded. Only skews the reassembly promises to undo are tried: a side's wait for
a peer it has seen nothing of ends at its own FIN (a tap that shows one direction must not
hold a session to its idle expiry), so a delay that moves a connection's first late packet
behind the other side's FIN is skipped (and counted).

Exit status 0 when every tried skew matched, 1 otherwise; 77 (skip) when nothing ran.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

DELAYS = (1, 3, 8, 13)
SERVER_PORTS = (25, 465, 587, 2525)


def read_pcap(path):
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    if struct.unpack(endian + "I", data[20:24])[0] != 1:
        raise SystemExit(f"{path}: not Ethernet")
    recs, off = [], 24
    while off + 16 <= len(data):
        ts, frac, incl, orig = struct.unpack(endian + "IIII", data[off : off + 16])
        recs.append((ts, frac, orig, data[off + 16 : off + 16 + incl]))
        off += 16 + incl
    return data[:24], endian, recs


def tcp_of(frame):
    """(is_server, flags, client port) of a TCP frame on Ethernet (VLAN tags allowed),
    else None."""
    off, etype = 14, struct.unpack(">H", frame[12:14])[0]
    while etype in (0x8100, 0x88A8):
        etype = struct.unpack(">H", frame[off + 2 : off + 4])[0]
        off += 4
    if etype == 0x0800 and frame[off + 9] == 6:
        tcp = off + (frame[off] & 15) * 4
    elif etype == 0x86DD and frame[off + 6] == 6:
        tcp = off + 40
    else:
        return None
    sport, dport = struct.unpack(">HH", frame[tcp : tcp + 4])
    server = sport in SERVER_PORTS
    return server, frame[tcp + 13], dport if server else sport


def skew(recs, delay, late_server):
    """The packet order with one side D places later, or None when a connection's first
    packet from the late side lands behind a FIN of the other side: a side stops waiting
    for a peer it has seen nothing of at its own FIN."""
    keyed = []
    for i, rec in enumerate(recs):
        t = tcp_of(rec[3])
        late = t is not None and t[0] == late_server
        keyed.append((i + delay + 0.5 if late else i, i))
    keyed.sort()
    order = [i for _, i in keyed]
    first_late, fin_seen = set(), set()
    for i in order:
        t = tcp_of(recs[i][3])
        if t is None:
            continue
        if t[0] != late_server and t[1] & 0x01:
            fin_seen.add(t[2])
        elif t[0] == late_server and t[2] not in first_late:
            first_late.add(t[2])
            if t[2] in fin_seen:
                return None
    return order


def write_pcap(path, header, endian, recs, order):
    last = 0
    with open(path, "wb") as f:
        f.write(header)
        for i in order:
            ts, frac, orig, frame = recs[i]
            t = max(ts * 1000000 + frac, last)  # capture time must not go back
            last = t
            f.write(struct.pack(endian + "IIII", t // 1000000, t % 1000000, len(frame), orig))
            f.write(frame)


def transactions(binary, pcap, logdir):
    subprocess.run([binary, "-q", "--report", "none", "-r", pcap, "-l", logdir], check=True)
    rows = []
    with open(os.path.join(logdir, "smtp.json")) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                r.pop("ts", None)  # the time of the packet that completed it
                r.pop("uid", None)  # hashes the first packet's time
                rows.append(json.dumps(r, sort_keys=True))
    return sorted(rows)


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    binary, captures = sys.argv[1], sys.argv[2:]
    tried = skipped = failed = 0
    with tempfile.TemporaryDirectory(prefix="relaywatch-reorder.") as tmp:
        for cap in captures:
            name = os.path.basename(cap)
            header, endian, recs = read_pcap(cap)
            want = transactions(binary, cap, os.path.join(tmp, "ref"))
            if not want:
                raise SystemExit(f"{name}: no transaction in the capture as recorded")
            for late_server in (True, False):
                for d in DELAYS:
                    order = skew(recs, d, late_server)
                    if order is None:
                        skipped += 1
                        continue
                    tried += 1
                    pcap = os.path.join(tmp, "skewed.pcap")
                    write_pcap(pcap, header, endian, recs, order)
                    got = transactions(binary, pcap, os.path.join(tmp, f"s{tried}"))
                    if got != want:
                        failed += 1
                        side = "server" if late_server else "client"
                        print(f"FAIL {name}: {side} {d} packets late: transactions differ")
                        for row in sorted(set(want) ^ set(got)):
                            print(("  -" if row in want else "  +") + row[:600])
    print(f"reorder: {tried} skews tried, {failed} differ; {skipped} beyond a FIN skipped")
    if tried == 0:
        sys.exit(77)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
