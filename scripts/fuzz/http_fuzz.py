#!/usr/bin/env python3
"""Seeded mutation fuzzing of the whole HTTP surface of a running sync-server.

Sends whole requests (request line, every header, body) built from real sync requests and mutated:
methods, paths, the Authorization, Content-Type, Content-Encoding, Content-Length and Transfer-Encoding
headers (chunk sizes included), unknown headers, JSON bodies whose numbers, strings, cursors, leases
and stamps are replaced by extreme or wrong values, truncated, byte-flipped, gzip-compressed or not.

Fails (exit 1) when the server answers 5xx (507 aside: storage), stops answering, or dies. Standard
library only. Usage (scripts/fuzz/run.sh starts it):

    http_fuzz.py --port PORT --pid PID --tokens FILE --runs N --seed S
"""

import argparse
import gzip
import json
import os
import random
import socket
import sys
import time

EXTREME_NUMBERS = [
    0, -1, 1, 2**31, 2**53, 2**53 + 1, 2**63 - 1, -(2**63), 2**64, 10**30, 1e308, -1e308, 0.5,
]
EXTREME_STRINGS = [
    "", "9223372036854775807", "-1", "0:9223372036854775807", "18446744073709551616", "x" * 5000,
    "\u0000", "\u001b[2J", "ffffffffffffffff", "0000000000000000", "../../etc/passwd", "é", "🙂" * 100,
]


def seeds(now, node):
    """Real requests of the protocol, as JSON values."""
    family = {
        "collection": "families",
        "fields": ["city", "reference", "head_name", "household_size"],
        "records": [["fam-%d" % i, 1000 + i, 0, "Tunis", "R%d" % i, "H", 3] for i in range(3)],
    }
    delivery = {
        "collection": "deliveries",
        "fields": ["city", "family", "item", "quantity", "delivered_at", "volunteer"],
        "records": [["del-1", 5, 0, "Tunis", "fam-1", "food_pack", 1, now, "v"]],
    }
    batch = {"nodes": [node], "base": now << 16, "groups": [family, delivery]}
    return [
        {"v": 1, "node": node, "clock": now, "pull": {"cursor": "0", "limit": 100}},
        {"v": 1, "node": node, "clock": now, "push": {"to": "5", "batch": batch},
         "pull": {"cursor": "0:0", "budget": 65536}},
        {"v": 1, "node": node, "clock": now, "lease": {"previous": None, "next": "1234567890abcdef"},
         "heartbeat": {"app": "fuzz", "backlog": 3, "oldest_pending_ms": 10, "clock_correction_ms": 0}},
        {"v": 1, "node": node, "clock": now, "relayed": [
            {"node": "00000000000000aa", "name": "x", "role": "device", "city": "Tunis",
             "clock_offset_ms": 0, "last_seen": now, "heartbeat": {"app": "x", "backlog": 0}}]},
    ]


def mutate_value(value, rng, depth=0):
    """A JSON value with some leaves replaced by extreme values of any type."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if rng.random() < 0.05:
                continue
            out[key] = mutate_value(item, rng, depth + 1)
        if rng.random() < 0.05:
            out[rng.choice(["x", "push", "pull", "cursor", "v", "node", "clock", "lease"])] = rng.choice(
                EXTREME_NUMBERS + EXTREME_STRINGS + [None, [], {}])
        return out
    if isinstance(value, list):
        out = [mutate_value(item, rng, depth + 1) for item in value]
        if out and rng.random() < 0.1:
            out.append(rng.choice(out))
        if out and rng.random() < 0.05:
            out.pop(rng.randrange(len(out)))
        return out
    if rng.random() < 0.04:
        return rng.choice(EXTREME_NUMBERS + EXTREME_STRINGS + [None, True, [], {}])
    return value


def body_bytes(rng, base):
    value = mutate_value(base, rng) if rng.random() < 0.8 else base
    try:
        data = json.dumps(value, ensure_ascii=rng.random() < 0.5).encode()
    except (ValueError, OverflowError):
        data = b"{}"
    roll = rng.random()
    if roll < 0.1:
        data = data[: rng.randrange(len(data) + 1)]
    elif roll < 0.25:
        data = bytearray(data)
        for _ in range(rng.randrange(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        data = bytes(data)
    elif roll < 0.28:
        data = b"[" * rng.randrange(1, 200000)
    return data


def request(rng, tokens, bases):
    """A request's bytes, and whether its framing lies (the sender then half-closes: the server must not wait)."""
    lies = False
    method = rng.choice(["POST"] * 8 + ["GET", "PUT", "DELETE", "OPTIONS", "HEAD", "P\x00ST"])
    path = rng.choice(["/v1/sync"] * 8 + ["/v1/session", "/healthz", "/metrics", "/v1/", "/v1/sync?x=1",
                                           "/%ff", "/" + "a" * 3000, "//v1/sync"])
    body = body_bytes(rng, rng.choice(bases))
    headers = []
    token = rng.choice(tokens + ["", "fs1_" + "0" * 48, "x" * 300, "\x00"])
    roll = rng.random()
    if roll < 0.85:
        headers.append("Authorization: Bearer " + token)
    elif roll < 0.9:
        headers.append("Authorization: Basic " + token)
    headers.append("Content-Type: " + rng.choice(
        ["application/json"] * 6 + ["text/csv", "application/json; charset=utf-8", "", "application/jsonx"]))
    coding = rng.choice(["", "", "gzip", "identity", "zstd", "br", "gzip, gzip", "x" * 100])
    if coding == "gzip":
        body = gzip.compress(body) if rng.random() < 0.9 else body
    elif coding == "zstd":
        body = b"\x28\xb5\x2f\xfd" + body[:64]
    if coding:
        headers.append("Content-Encoding: " + coding)
    if rng.random() < 0.3:
        headers.append("Accept-Encoding: " + rng.choice(["zstd", "gzip", "*", "zstd;q=0", "gzip;q=2", "\x01"]))
    for _ in range(rng.choice([0, 0, 0, 1, 3])):
        headers.append(rng.choice(["X-Fuzz", "Connection", "Expect", "Host", "Range", "If-None-Match"]) + ": "
                       + rng.choice(EXTREME_STRINGS[:9] + ["close", "100-continue", "keep-alive"]))
    framing = rng.random()
    if framing < 0.75:
        headers.append("Content-Length: %d" % len(body))
        payload = body
    elif framing < 0.85:
        lies = True
        headers.append("Content-Length: " + rng.choice(
            [str(len(body) + 10), "-1", "99999999999999999999", "abc", str(max(0, len(body) - 5))]))
        payload = body
    else:
        headers.append("Transfer-Encoding: chunked")
        payload = b""
        offset = 0
        while offset < len(body):
            size = rng.randrange(1, 4096)
            chunk = body[offset: offset + size]
            offset += size
            size_text = "%x" % len(chunk)
            if rng.random() < 0.05:
                lies = True
                size_text = rng.choice(["FFFFFFFFFFFFFFFFFFFF", "-1", "zz", "0" * 30 + "1", ""])
            payload += size_text.encode() + b"\r\n" + chunk + b"\r\n"
        payload += b"0\r\n\r\n"
    head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n\r\n" % (method, path, "\r\n".join(headers))
    return head.encode("utf-8", "surrogateescape") + payload, lies


def status_of(sock, head_only):
    """The status of the answer to one request (-1: the server closed), reading the whole answer (only
    its head for a HEAD request)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return -1
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    if status == 100:  # Expect: 100-continue: the answer follows
        while b"\r\n\r\n" not in rest:
            chunk = sock.recv(65536)
            if not chunk:
                return -1
            rest += chunk
        head, _, rest = rest.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        if name.strip().lower() == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if head_only:
        return status
    if chunked:
        while not rest.endswith(b"0\r\n\r\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
    else:
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
    return status


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--runs", type=int, default=1000000)
    parser.add_argument("--seed", type=int, default=20261206)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tokens = [line.strip() for line in open(args.tokens) if line.strip()]
    now = int(time.time() * 1000)
    bases = []
    for node in ["1111111111111111", "2222222222222222", "3333333333333333"]:
        bases += seeds(now, node)
    counts = {}
    sock = None
    started = time.time()
    for run in range(args.runs):
        if sock is None:
            sock = socket.create_connection(("127.0.0.1", args.port), timeout=10)
        data, lies = request(rng, tokens, bases)
        try:
            sock.sendall(data)
            if lies:
                sock.shutdown(socket.SHUT_WR)
            status = status_of(sock, data.startswith(b"HEAD "))
        except socket.timeout:
            print("FAIL: no answer within 10 s to request #%d (seed %d): %r" % (run, args.seed, data[:600]))
            sys.exit(1)
        except (OSError, ValueError, IndexError):
            status = -1
        if lies:
            status = status if status != -1 else -2  # closed without an answer: allowed for a lying framing
        counts[status] = counts.get(status, 0) + 1
        if status >= 500 and status != 507:
            print("FAIL: %d for request #%d (seed %d): %r" % (status, run, args.seed, data[:600]))
            sys.exit(1)
        if status < 0 or lies or rng.random() < 0.02:
            try:
                sock.close()
            except OSError:
                pass
            sock = None
        if run % 20000 == 0 and not alive(args.pid):
            print("FAIL: the server died after request #%d (seed %d)" % (run, args.seed))
            sys.exit(1)
        if run and run % 100000 == 0:
            print("  %d requests, %.0f s, statuses %s" % (run, time.time() - started, sorted(counts.items())))
            sys.stdout.flush()
    if not alive(args.pid):
        print("FAIL: the server died")
        sys.exit(1)
    print("%d requests in %.0f s, 0 server errors, statuses %s" % (args.runs, time.time() - started,
                                                                  sorted(counts.items())))


if __name__ == "__main__":
    main()
