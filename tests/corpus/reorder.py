#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""
reorder.py RELAYWATCH CAPTURE...: the two directions of a connection skewed, as a
multi-queue tap delivers them when one queue is drained late.

For each capture (real postfix and swaks traffic, both directions) and each delay D, every
packet of one side (server, then client) is moved D packets later; each direction keeps its
own order, as one RX queue does. The transactions in smtp.json must equal those of the
capture as recorded. Every variant, the recorded order too, goes into one file, one after
the other, each connection on a client port of its own (TCP checksum adjusted): one sensor
run for all (a start costs 20 s under ASan).

Only skews the reassembly promises to undo are tried: a side's wait for a peer it has seen
nothing of ends at its own FIN (a tap that shows one direction must not hold a session to
its idle expiry), so a delay that moves a connection's first late packet behind the other
side's FIN is skipped (and counted).

Exit status 0 when every tried skew matched, 1 otherwise.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

DELAYS = (1, 2, 3, 5, 8, 13)
SERVER_PORTS = (25, 465, 587, 2525)
FIRST_PORT = 10000  # variant v's connections: FIRST_PORT + v * PORTS_PER_VARIANT + j
PORTS_PER_VARIANT = 4
GAP_US = 10_000_000  # between variants: the previous one's flows are closed or idle


def read_pcap(path):
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
    if struct.unpack(endian + "I", data[20:24])[0] != 1:
        raise SystemExit(f"{path}: not Ethernet")
    recs, off = [], 24
    while off + 16 <= len(data):
        ts, frac, incl, orig = struct.unpack(endian + "IIII", data[off : off + 16])
        # times in microseconds, as written
        recs.append((ts, frac // 1000 if nano else frac, orig, data[off + 16 : off + 16 + incl]))
        off += 16 + incl
    return data[:24], endian, recs


def tcp_of(frame):
    """(is_server, flags, client port, offset of the TCP header) of a TCP frame on
    Ethernet (VLAN tags allowed), else None."""
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
    return server, frame[tcp + 13], dport if server else sport, tcp


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


def with_port(frame, new_port):
    """The frame with its client port replaced, the TCP checksum adjusted (RFC 1624)."""
    server, _, old, tcp = tcp_of(frame)
    at = tcp + (2 if server else 0)
    f = bytearray(frame)
    f[at : at + 2] = struct.pack(">H", new_port)
    if len(f) >= tcp + 18:
        hc = struct.unpack(">H", f[tcp + 16 : tcp + 18])[0]
        x = (~hc & 0xFFFF) + (~old & 0xFFFF) + new_port
        x = (x & 0xFFFF) + (x >> 16)
        x = (x & 0xFFFF) + (x >> 16)
        f[tcp + 16 : tcp + 18] = struct.pack(">H", ~x & 0xFFFF)
    return bytes(f)


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    binary, captures = sys.argv[1], sys.argv[2:]
    out, variants, skipped = [], [], 0  # variants: (capture, late_server, delay, its reference)
    clock = 1_700_000_000 * 1_000_000
    for cap in captures:
        name = os.path.basename(cap)
        _, _, recs = read_pcap(cap)
        ports = sorted({t[2] for t in (tcp_of(r[3]) for r in recs) if t})
        if len(ports) > PORTS_PER_VARIANT:
            raise SystemExit(f"{name}: more than {PORTS_PER_VARIANT} connections")
        ref = len(variants)
        runs = [(None, 0, list(range(len(recs))))]  # late_server None: as recorded
        for late_server in (True, False):
            for d in DELAYS:
                order = skew(recs, d, late_server)
                if order is None:
                    skipped += 1
                else:
                    runs.append((late_server, d, order))
        for late_server, d, order in runs:
            v = len(variants)
            variants.append((name, late_server, d, ref))
            base = FIRST_PORT + v * PORTS_PER_VARIANT
            start = recs[order[0]][0] * 1_000_000 + recs[order[0]][1]
            last = clock
            for i in order:
                ts, frac, orig, frame = recs[i]
                t = tcp_of(frame)
                if t:
                    frame = with_port(frame, base + ports.index(t[2]))
                last = max(clock + ts * 1_000_000 + frac - start, last)  # never back
                out.append((last, orig, frame))
            clock = last + GAP_US
    with tempfile.TemporaryDirectory(prefix="relaywatch-reorder.") as tmp:
        pcap = os.path.join(tmp, "all.pcap")
        with open(pcap, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
            for t, orig, frame in out:
                f.write(struct.pack("<IIII", t // 1_000_000, t % 1_000_000, len(frame), orig))
                f.write(frame)
        subprocess.run([binary, "-q", "--report", "none", "-r", pcap, "-l", tmp], check=True)
        got = {v: [] for v in range(len(variants))}
        with open(os.path.join(tmp, "smtp.json")) as f:
            for line in f:
                if not line.strip():
                    continue
                r = json.loads(line)
                v, j = divmod(r["id.orig_p"] - FIRST_PORT, PORTS_PER_VARIANT)
                r["id.orig_p"] = j
                r.pop("ts", None)  # the time of the packet that completed it
                r.pop("uid", None)  # hashes the first packet's time
                got[v].append(json.dumps(r, sort_keys=True))
    failed = 0
    for v, (name, late_server, d, ref) in enumerate(variants):
        if late_server is None:
            if not got[v]:
                raise SystemExit(f"{name}: no transaction in the capture as recorded")
            continue
        want, have = sorted(got[ref]), sorted(got[v])
        if want != have:
            failed += 1
            side = "server" if late_server else "client"
            print(f"FAIL {name}: {side} {d} packets late: transactions differ")
            for row in sorted(set(want) ^ set(have)):
                print(("  -" if row in want else "  +") + row[:600])
    tried = sum(1 for v in variants if v[1] is not None)
    print(f"reorder: {tried} skews tried, {failed} differ; {skipped} beyond a FIN skipped")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
