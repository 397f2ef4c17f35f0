#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A small sensor stand-in for the collector's end-to-end tests (stdlib only).

Speaks the sensor -> collector protocol of exporters/relaywatch.proto: frames
of a 4-byte big-endian length and a protobuf Frame, acks back as protobuf
Acks. The protobuf encoding is written out by hand below (field numbers from
the .proto), so no protobuf package is needed.

  collector_client.py send ADDR [--tls CERT KEY CA] --sensor ID --run HEX
        [--alerts N] [--summaries N] [--txs N] [--first-seq N] [--host IP]
      sends a hello and the frames, waits until the last seq is acked and
      prints one JSON line: {"acked": seq, "acks": n, "frames": n}
  collector_client.py abuse ADDR KIND [--tls ...]
      KIND: garbage, oversized, badproto, nohello, slow, idle, mismatch;
      prints {"closed": true|false, "seconds": s}: whether the collector
      closed the connection within --wait seconds
  collector_client.py bench ADDR [--tls ...] --frames N
      sends N alerts as fast as it can and prints frames/s and ack latency
"""

import argparse
import json
import os
import select
import socket
import ssl
import struct
import sys
import time

# ---- protobuf, by hand ----


def varint(v):
    out = bytearray()
    v &= (1 << 64) - 1
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def f_varint(num, v):
    return varint(num << 3) + varint(v) if v else b""


def f_bytes(num, b):
    if isinstance(b, str):
        b = b.encode()
    return varint((num << 3) | 2) + varint(len(b)) + b if b else b""


def f_msg(num, b):
    return varint((num << 3) | 2) + varint(len(b)) + b


def f_double(num, d):
    return varint((num << 3) | 1) + struct.pack("<d", d) if d else b""


def read_varint(buf, i):
    shift = v = 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, i


def parse_ack(buf):
    """Ack{run_id=1, seq=2, error=3} -> dict."""
    out = {"run_id": 0, "seq": 0, "error": ""}
    i = 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = read_varint(buf, i)
            out["run_id" if num == 1 else "seq"] = v
        elif wt == 2:
            n, i = read_varint(buf, i)
            if num == 3:
                out["error"] = buf[i:i + n].decode(errors="replace")
            i += n
        else:
            raise ValueError("unexpected wire type %d in Ack" % wt)
    return out


def frame(sensor, run, seq, body_num, body):
    return (f_bytes(1, sensor) + f_varint(2, run) + f_varint(3, seq) +
            f_msg(body_num, body))


def hello(sensor, run, version="e2e-client"):
    body = (f_bytes(1, sensor) + f_bytes(2, version) + f_bytes(3, "0" * 64) +
            f_varint(4, time.time_ns()) + f_bytes(5, "10.0.0.0/8") +
            f_bytes(5, "192.0.2.0/24"))
    return frame(sensor, run, 0, 4, body)


def alert(sensor, run, seq, host, kind="open_relay", severity="critical",
          account="", alert_seq=0, ts_ns=None, message=None):
    ts = ts_ns or time.time_ns()
    counter = (f_bytes(1, "relayed_rcpts") + f_double(2, 12.0) +
               f_double(3, 1.0) + f_varint(4, 300))
    example = f_bytes(1, "rcpt_domain") + f_bytes(2, "victim.example")
    body = (f_varint(1, ts) + f_varint(2, ts - 60 * 10**9) + f_bytes(3, kind) +
            f_bytes(4, severity) + f_bytes(5, host) + f_bytes(6, account) +
            f_double(7, 16.0) +
            f_bytes(8, message or "%s relayed mail for foreign domains" % host) +
            f_varint(9, alert_seq) + f_msg(10, counter) + f_msg(11, example) +
            f_bytes(12, "CAbc%d" % seq))
    return frame(sensor, run, seq, 5, body)


def summary(sensor, run, seq, host, ts_ns=None, messages=40, blocklist=0,
            home=True, rejected=0, recipients=100):
    ts = ts_ns or time.time_ns()
    body = (f_varint(1, ts) + f_varint(2, 60) + f_bytes(3, host) + f_varint(4, home) +
            f_varint(6, 3) + f_varint(8, messages) + f_varint(9, recipients) +
            f_varint(10, rejected) + f_varint(13, 5) + f_varint(16, blocklist) +
            f_double(18, 1.5) + f_varint(19, ts - 3600 * 10**9) + f_varint(20, ts))
    return frame(sensor, run, seq, 6, body)


def transaction(sensor, run, seq, client, server="198.51.100.7", user="alice",
                rcpts=("bob@victim.example", "eve@other.example"), ts_ns=None):
    ts = ts_ns or time.time_ns()
    rc = b"".join(f_msg(10, f_bytes(1, r) + f_varint(2, 250) + f_bytes(3, "2.1.5"))
                  for r in rcpts)
    body = (f_varint(1, ts) + f_bytes(2, "CTx%d" % seq) + f_bytes(3, client) +
            f_varint(4, 40000 + seq % 1000) + f_bytes(5, server) + f_varint(6, 587) +
            f_varint(7, 1) + f_bytes(8, "pc.example") + f_bytes(9, user + "@home.example") +
            rc + f_bytes(11, "PLAIN") + f_bytes(12, user) + f_bytes(13, "success") +
            f_bytes(14, "<m%d@home.example>" % seq) + f_bytes(16, "invoice %d" % seq) +
            f_varint(19, 1234) + f_bytes(20, "250 2.0.0 queued"))
    return frame(sensor, run, seq, 7, body)


def wire(msg):
    return struct.pack(">I", len(msg)) + msg


# ---- connection ----


def connect(addr, tls, timeout=10):
    host, port = addr.rsplit(":", 1)
    sock = socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if tls:
        cert, key, ca = tls
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_cert_chain(cert, key)
        ctx.load_verify_locations(ca)
        ctx.check_hostname = False
        sock = ctx.wrap_socket(sock, server_hostname="collector")
    return sock


class AckReader:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def read(self, timeout):
        """Next Ack, None on timeout; raises EOFError when the peer closed."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 4:
                n = struct.unpack(">I", self.buf[:4])[0]
                if len(self.buf) >= 4 + n:
                    msg, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
                    return parse_ack(msg)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            pending = isinstance(self.sock, ssl.SSLSocket) and self.sock.pending()
            if not pending and not select.select([self.sock], [], [], left)[0]:
                return None
            try:
                data = self.sock.recv(65536)
            except (ssl.SSLError, ConnectionError, OSError) as e:
                raise EOFError(str(e))
            if not data:
                raise EOFError("closed")
            self.buf += data


def wait_acked(reader, run, seq, timeout):
    """Reads acks until run is acked up to seq; returns (highest, count)."""
    best, count = 0, 0
    deadline = time.monotonic() + timeout
    while best < seq:
        ack = reader.read(max(0.0, deadline - time.monotonic()))
        if ack is None:
            break
        if ack["error"]:
            raise RuntimeError("collector refused: " + ack["error"])
        count += 1
        if ack["run_id"] == run:
            best = max(best, ack["seq"])
    return best, count


def frames_for(args, run):
    out, seq = [], args.first_seq
    for i in range(args.alerts):
        host = args.host or "192.0.2.%d" % (10 + i % 5)
        out.append(alert(args.sensor, run, seq, host, account=args.account))
        seq += 1
    for i in range(args.summaries):
        out.append(summary(args.sensor, run, seq, args.host or "192.0.2.%d" % (50 + i % 3),
                           blocklist=args.blocklist))
        seq += 1
    for i in range(args.txs):
        out.append(transaction(args.sensor, run, seq, args.host or "192.0.2.99"))
        seq += 1
    return out, seq - 1


def cmd_send(args):
    run = int(args.run, 16)
    frames, last = frames_for(args, run)
    sock = connect(args.addr, args.tls)
    reader = AckReader(sock)
    sock.sendall(wire(hello(args.hello_sensor or args.sensor, run)))
    for i, f in enumerate(frames):
        sock.sendall(wire(f))
        if args.pace:
            time.sleep(args.pace)
    best, count = wait_acked(reader, run, last, args.timeout) if frames else (0, 0)
    if not frames:
        ack = reader.read(args.timeout)
        count = 1 if ack else 0
        if ack and ack["error"]:
            raise RuntimeError("collector refused: " + ack["error"])
    sock.close()
    print(json.dumps({"acked": best, "acks": count, "frames": len(frames), "last": last}))
    return 0 if best == last else 1


def abuse_bytes(kind, args, run):
    if kind == "garbage":
        return b"GET / HTTP/1.0\r\n\r\n"
    if kind == "oversized":
        return struct.pack(">I", 64 << 20) + b"x" * 1024
    if kind == "badproto":
        return wire(hello(args.sensor, run)) + wire(b"\xff\xff\xff\xff\xff\xff\x07")
    if kind == "nohello":
        return wire(alert(args.sensor, run, 1, "192.0.2.1"))
    if kind == "mismatch":
        return wire(hello(args.sensor, run))
    return b""


def cmd_abuse(args):
    run = int(args.run, 16)
    t0 = time.monotonic()
    try:
        sock = connect(args.addr, args.tls)
    except (ssl.SSLError, ConnectionError, OSError) as e:
        # A refused certificate may end the handshake itself.
        print(json.dumps({"closed": True, "seconds": 0, "during": "handshake",
                          "error": str(e)}))
        return 0
    payload = abuse_bytes(args.kind, args, run)
    try:
        if args.kind == "slow":
            # A frame trickled in one byte at a time, never finished.
            sock.sendall(wire(hello(args.sensor, run)))
            body = wire(alert(args.sensor, run, 1, "192.0.2.1"))
            for b in body[:-1]:
                sock.sendall(bytes([b]))
                if select.select([sock], [], [], 0.5)[0]:
                    break
        elif payload:
            sock.sendall(payload)
    except (ssl.SSLError, ConnectionError, OSError):
        pass
    reader, closed, error = AckReader(sock), False, ""
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        try:
            ack = reader.read(deadline - time.monotonic())
            if ack and ack["error"]:
                error = ack["error"]
        except EOFError:
            closed = True
            break
    print(json.dumps({"closed": closed, "seconds": round(time.monotonic() - t0, 2),
                      "error": error}))
    return 0


def cmd_bench(args):
    run = int(args.run, 16)
    hosts = ["198.18.%d.%d" % (i // 250, i % 250) for i in range(500)]
    sock = connect(args.addr, args.tls)
    reader = AckReader(sock)
    sock.sendall(wire(hello(args.sensor, run)))
    # Ack latency at low load: one frame, wait for its ack, repeated.
    lat = []
    seq = args.frames
    for i in range(args.probes):
        seq += 1
        t = time.monotonic()
        sock.sendall(wire(alert(args.sensor, run, seq, "198.19.0.1", alert_seq=1)))
        wait_acked(reader, run, seq, 10)
        lat.append(time.monotonic() - t)
    # Throughput: everything at once (the probes' run continues after them).
    run2 = run + 1
    frames = [wire(alert(args.sensor, run2, s, hosts[s % len(hosts)], alert_seq=1))
              for s in range(1, args.frames + 1)]
    blob = b"".join(frames)
    t0 = time.monotonic()
    sock.sendall(blob)
    best, count = wait_acked(reader, run2, args.frames, args.timeout)
    dt = time.monotonic() - t0
    sock.close()
    lat.sort()
    print(json.dumps({
        "frames": args.frames, "acked": best, "acks": count, "seconds": round(dt, 3),
        "frames_per_s": round(args.frames / dt), "ack_latency_ms_p50":
        round(1000 * lat[len(lat) // 2], 3) if lat else None,
        "ack_latency_ms_p99": round(1000 * lat[int(len(lat) * 0.99)], 3) if lat else None}))
    return 0 if best == args.frames else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cmd", choices=["send", "abuse", "bench"])
    ap.add_argument("addr")
    ap.add_argument("kind", nargs="?", default="")
    ap.add_argument("--tls", nargs=3, metavar=("CERT", "KEY", "CA"))
    ap.add_argument("--sensor", default="sensor-a")
    ap.add_argument("--hello-sensor", default="")
    ap.add_argument("--run", default="00000000000000a1")
    ap.add_argument("--alerts", type=int, default=0)
    ap.add_argument("--summaries", type=int, default=0)
    ap.add_argument("--txs", type=int, default=0)
    ap.add_argument("--blocklist", type=int, default=0)
    ap.add_argument("--first-seq", type=int, default=1)
    ap.add_argument("--host", default="")
    ap.add_argument("--account", default="")
    ap.add_argument("--pace", type=float, default=0)
    ap.add_argument("--frames", type=int, default=10000)
    ap.add_argument("--probes", type=int, default=200)
    ap.add_argument("--wait", type=float, default=10)
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    fn = {"send": cmd_send, "abuse": cmd_abuse, "bench": cmd_bench}[args.cmd]
    try:
        return fn(args)
    except (RuntimeError, EOFError, OSError) as e:
        print(json.dumps({"error": str(e)}))
        return 2


if __name__ == "__main__":
    sys.exit(main())
