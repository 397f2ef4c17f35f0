#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Many clients from one real capture, for the system end-to-end tests.

    system_pcap.py OUT.pcap CAPTURE:COUNT:CLIENT[:SERVER[:GAP]] ...

Each CAPTURE (a classic pcap of Ethernet/IPv4 frames, one TCP session as in
tests/captures/) is copied COUNT times: copy k comes from client CLIENT + k
(the client is the sender of the first frame), goes to SERVER + k when given
(else to the captured server), and starts k * GAP seconds (default 0.05)
after the first copy. Every other byte stays as captured; the IPv4 and TCP
checksums are updated (RFC 1624): a checksum captured right stays right. The copies of all specs are merged in time
order into one microsecond pcap; no spec gives a capture of no packets.
Prints the number of frames written.
"""
import ipaddress
import struct
import sys

T0 = 1_700_000_000.0  # packet time of the first copy


def csum_update(old_sum, old, new):
    """RFC 1624 eqn. 3: the checksum after 16-bit words old became new."""
    s = ~old_sum & 0xFFFF
    for i in range(0, len(old), 2):
        s += (~((old[i] << 8) | old[i + 1]) & 0xFFFF) + ((new[i] << 8) | new[i + 1])
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic == 0xA1B2C3D4:
        end, div = "<", 1e6
    elif magic == 0xA1B23C4D:
        end, div = "<", 1e9
    elif magic == 0xD4C3B2A1:
        end, div = ">", 1e6
    else:
        sys.exit(f"{path}: not a classic pcap")
    if struct.unpack(end + "I", data[20:24])[0] != 1:
        sys.exit(f"{path}: not Ethernet")
    off, frames = 24, []
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        frames.append((sec + frac / div, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return frames


def ip_off(frame):
    """Offset of the IPv4 header (after any 802.1Q tags), or None."""
    off, etype = 12, struct.unpack("!H", frame[12:14])[0]
    while etype in (0x8100, 0x88A8) and off + 6 <= len(frame):
        off += 4
        etype = struct.unpack("!H", frame[off:off + 2])[0]
    return off + 2 if etype == 0x0800 else None


def rewrite(frame, addr_map):
    """frame with its IPv4 addresses mapped through addr_map, checksums updated."""
    o = ip_off(frame)
    if o is None:
        return frame
    b = bytearray(frame)
    old = bytes(b[o + 12:o + 20])
    new = addr_map.get(old[:4], old[:4]) + addr_map.get(old[4:], old[4:])
    if new == old:
        return frame
    b[o + 12:o + 20] = new
    ip_sum = struct.unpack("!H", b[o + 10:o + 12])[0]
    b[o + 10:o + 12] = struct.pack("!H", csum_update(ip_sum, old, new))
    t = o + (b[o] & 15) * 4
    if b[o + 9] == 6 and len(b) >= t + 18:  # the TCP checksum covers the addresses too
        tcp_sum = struct.unpack("!H", b[t + 16:t + 18])[0]
        b[t + 16:t + 18] = struct.pack("!H", csum_update(tcp_sum, old, new))
    return bytes(b)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    out, merged = argv[1], []
    for spec in argv[2:]:
        path, count, client, server, gap = (spec.split(":") + ["", ""])[:5]
        frames = read_pcap(path)
        o = ip_off(frames[0][1])
        old_c, old_s = frames[0][1][o + 12:o + 16], frames[0][1][o + 16:o + 20]
        base_c = int(ipaddress.IPv4Address(client))
        base_s = int(ipaddress.IPv4Address(server)) if server else None
        gap = float(gap) if gap else 0.05
        t_first = frames[0][0]
        for k in range(int(count)):
            m = {old_c: ipaddress.IPv4Address(base_c + k).packed}
            if base_s is not None:
                m[old_s] = ipaddress.IPv4Address(base_s + k).packed
            for ts, fr in frames:
                merged.append((T0 + k * gap + (ts - t_first), len(merged), rewrite(fr, m)))
    merged.sort()
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for ts, _, fr in merged:
            sec = int(ts)
            usec = int(round((ts - sec) * 1e6))
            if usec >= 1000000:
                sec, usec = sec + 1, usec - 1000000
            f.write(struct.pack("<IIII", sec, usec, len(fr), len(fr)) + fr)
    print(len(merged))


if __name__ == "__main__":
    main(sys.argv)
