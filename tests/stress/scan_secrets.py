#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Look for the lab's passwords in files or in a running process's memory.

usage: scan_secrets.py PREFIX FILE_OR_DIR...
       scan_secrets.py PREFIX --pid PID
       scan_secrets.py --rewrite-clients IN.pcap OUT.pcap CLIENT N

PREFIX is what every password on the wire starts with (tests/captures:
'Tr0ub4dor&3-'). A hit is PREFIX in clear, JSON-escaped ('&' as \\u0026),
hex, or inside base64 at any of the three byte alignments (so the AUTH PLAIN
"\\0user\\0password" and AUTH LOGIN forms are caught whatever precedes the
password). Files: every byte of every file under the given paths (logs,
JSON, the collector's SQLite database). --pid: every readable mapping of the
process that a core dump would hold (mappings marked "dd" in smaps, which
the kernel leaves out of core dumps, are skipped). Prints each hit; exit 1
when there is any.

--rewrite-clients: N copies of a capture, copy i with the client address
CLIENT replaced by CLIENT's /24 and host 100+i (IPv4, Ethernet, classic
pcap), each copy a second later: one account logging in from N sources.
"""
import base64
import os
import re
import struct
import sys


def forms(prefix):
    p = prefix.encode()
    out = {"clear": p, "json": prefix.replace("&", "\\u0026").encode(),
           "hex": p.hex().encode()}
    for k in range(3):
        enc = base64.b64encode(b"\0" * k + p)
        # drop the 4 characters mixed with what precedes, and a partial tail
        start = 4 if k else 0
        end = len(enc) - (0 if (k + len(p)) % 3 == 0 else 4)
        out["base64+%d" % k] = enc[start:end]
    return out


def scan_bytes(name, data, pats, hits):
    for label, pat in pats.items():
        for m in re.finditer(re.escape(pat), data):
            ctx = data[max(0, m.start() - 24):m.end() + 24]
            hits.append("%s: %s at %d: %r" % (name, label, m.start(), ctx))


def scan_paths(paths, pats):
    hits, n = [], 0
    for top in paths:
        walk = [(top, [], [os.path.basename(top)])] if os.path.isfile(top) else os.walk(top)
        for d, _, files in walk:
            for f in files:
                path = d if os.path.isfile(d) else os.path.join(d, f)
                with open(path, "rb") as fh:
                    scan_bytes(path, fh.read(), pats, hits)
                n += 1
    return hits, "%d files" % n


def scan_pid(pid, pats):
    hits, regions, total = [], [], 0
    cur = None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
            if m:
                cur = [int(m.group(1), 16), int(m.group(2), 16), m.group(3), line.strip()]
                regions.append(cur)
            elif line.startswith("VmFlags:") and cur is not None:
                cur.append(line.split()[1:])
    with open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for r in regions:
            lo, hi, perms, desc = r[:4]
            flags = r[4] if len(r) > 4 else []
            if "r" not in perms or "dd" in flags or "[vvar]" in desc or "[vsyscall]" in desc:
                continue
            try:
                mem.seek(lo)
                data = mem.read(hi - lo)
            except (OSError, ValueError, OverflowError):
                continue
            total += len(data)
            scan_bytes("pid %d %s" % (pid, desc), data, pats, hits)
    return hits, "%d MiB of memory" % (total >> 20)


def rewrite_clients(src, dst, client, n):
    data = open(src, "rb").read()
    if struct.unpack_from("<I", data, 0)[0] not in (0xa1b2c3d4, 0xa1b23c4d):
        sys.exit("not a little-endian classic pcap: " + src)
    old = bytes(int(x) for x in client.split("."))
    recs, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack_from("<I", data, off + 8)[0]
        recs.append(bytearray(data[off:off + 16 + incl]))
        off += 16 + incl
    out = [data[:24]]
    for i in range(n):
        new = old[:3] + bytes([100 + i])
        for r in recs:
            r = bytearray(r)
            struct.pack_into("<I", r, 0, struct.unpack_from("<I", r, 0)[0] + i)
            ip = 16 + 14
            if r[ip - 2:ip] == b"\x08\x00":
                for a in (ip + 12, ip + 16):
                    if r[a:a + 4] == old:
                        r[a:a + 4] = new
            out.append(bytes(r))
    open(dst, "wb").write(b"".join(out))


def main(argv):
    if len(argv) >= 2 and argv[1] == "--rewrite-clients":
        rewrite_clients(argv[2], argv[3], argv[4], int(argv[5]))
        return 0
    if len(argv) < 3:
        sys.exit(__doc__)
    pats = forms(argv[1])
    if argv[2] == "--pid":
        hits, what = scan_pid(int(argv[3]), pats)
    else:
        hits, what = scan_paths(argv[2:], pats)
    for h in hits[:20]:
        print("FAIL " + h)
    print("%s %s: %d hits of %s" % ("ok  " if not hits else "FAIL", what, len(hits),
                                    ", ".join(sorted(pats))))
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
