"""A small fault proxy for HTTP/1.1 on loopback: it passes requests to the server and, when armed, cuts one
exchange at a chosen byte of the request, of the answer's headers or of the answer's body.

Every exchange is logged (the request's JSON, decompressed, and the answer's status and JSON), so that a
scenario can check what a client sent: the lease pair after a cut, the pages of a push, the heartbeats.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
from dataclasses import dataclass, field
from typing import Callable

try:
    import zstandard
except ImportError:  # pragma: no cover
    zstandard = None

from pathlib import Path


def wire_dictionary() -> bytes:
    """The FieldSync wire dictionary of coding `zstd-fs1`, as docs/protocol.md (section 8) prints it."""
    page = (Path(__file__).resolve().parents[3] / "docs" / "protocol.md").read_text(encoding="utf-8")
    block = page[page.index("**`zstd-fs1`**") :]
    start = block.index("```text\n") + len("```text\n")
    return block[start : block.index("\n```", start)].encode("ascii")


_dictionary = None


def _zstd_fs1():
    global _dictionary
    if _dictionary is None:
        _dictionary = zstandard.ZstdCompressionDict(wire_dictionary(), dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    return zstandard.ZstdDecompressor(dict_data=_dictionary)


@dataclass
class Message:
    raw: bytes
    head: bytes
    start: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        coding = self.headers.get("content-encoding", "").strip().lower()
        data = self.body
        try:
            if coding == "zstd":
                data = zstandard.ZstdDecompressor().decompressobj().decompress(data)
            elif coding == "zstd-fs1":
                data = _zstd_fs1().decompressobj().decompress(data)
            elif coding in ("gzip", "x-gzip"):
                data = gzip.decompress(data)
            return json.loads(data) if data else None
        except Exception:
            return None


@dataclass
class Fault:
    """Cut the first exchange whose request matches: `where` is "request", "headers" or "answer"; `at` is a
    fraction (0-1) of that part's length, or a byte count when an int."""

    where: str
    matches: Callable[[dict | None], bool]
    at: float | int = 0.5
    fired: bool = False

    def offset(self, length: int) -> int:
        n = self.at if isinstance(self.at, int) else int(length * self.at)
        return max(1, min(length - 1, n))


@dataclass
class Exchange:
    request: dict | None
    path: str
    status: int | None = None
    answer: dict | None = None
    fault: str | None = None
    raw: bytes = field(default=b"", repr=False)


def _read_until(sock: socket.socket, buffer: bytearray, marker: bytes) -> int:
    while (index := buffer.find(marker)) < 0:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError
        buffer.extend(chunk)
    return index


def _read_exactly(sock: socket.socket, buffer: bytearray, length: int) -> None:
    while len(buffer) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError
        buffer.extend(chunk)


def read_message(sock: socket.socket, buffer: bytearray, *, drop_expect: bool = False) -> Message:
    """One HTTP/1.1 message (Content-Length or chunked body) from `sock`; leftover bytes stay in `buffer`.

    With `drop_expect`, a request's `Expect: 100-continue` is answered here (100 Continue) and left out of
    what is forwarded."""
    end = _read_until(sock, buffer, b"\r\n\r\n") + 4
    head = bytes(buffer[:end])
    del buffer[:end]
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if drop_expect and "expect" in headers:
        head = "\r\n".join(l for l in lines if not l.lower().startswith("expect:")).encode("latin-1")
        if "100-continue" in headers.pop("expect").lower():
            sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
    if lines[0].startswith("HTTP/") and (lines[0].split(" ")[1].startswith("1") or " 204 " in lines[0]):
        return Message(head, head, lines[0], headers, b"")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raw, body = bytearray(), bytearray()
        while True:
            line_end = _read_until(sock, buffer, b"\r\n") + 2
            size_line = bytes(buffer[:line_end])
            size = int(size_line.split(b";")[0].strip(), 16)
            _read_exactly(sock, buffer, line_end + size + 2)
            raw.extend(buffer[: line_end + size + 2])
            body.extend(buffer[line_end : line_end + size])
            del buffer[: line_end + size + 2]
            if size == 0:
                break
        return Message(head + bytes(raw), head, lines[0], headers, bytes(body))
    length = int(headers.get("content-length", "0"))
    _read_exactly(sock, buffer, length)
    body = bytes(buffer[:length])
    del buffer[:length]
    return Message(head + body, head, lines[0], headers, body)


class FaultProxy:
    """`FaultProxy(port)` forwards 127.0.0.1:<its port> to 127.0.0.1:`port`. `arm(Fault(...))` cuts the next
    matching exchange; `log` lists every exchange; `replay(exchange)` sends a logged request again."""

    def __init__(self, upstream_port: int):
        self.upstream = ("127.0.0.1", upstream_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log: list[Exchange] = []
        self.sync_starts: list[int] = []  # len(log) when a driver started a sync
        self.faults: list[Fault] = []
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, fault: Fault) -> Fault:
        with self.lock:
            self.faults.append(fault)
        return fault

    def close(self) -> None:
        self.closed = True
        self.listener.close()

    def sync_started(self) -> None:
        with self.lock:
            self.sync_starts.append(len(self.log))

    def syncs(self) -> list[Exchange]:
        return [e for e in self.log if e.path == "/v1/sync"]

    def _take(self, request: dict | None) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if not fault.fired and fault.matches(request):
                    fault.fired = True
                    return fault
        return None

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = None
        from_client, from_server = bytearray(), bytearray()
        try:
            upstream = socket.create_connection(self.upstream)
            while True:
                try:
                    request = read_message(client, from_client, drop_expect=True)
                except EOFError:
                    return
                parsed = request.json()
                path = request.start.split(" ")[1] if " " in request.start else ""
                exchange = Exchange(parsed, path, raw=request.raw)
                with self.lock:
                    self.log.append(exchange)
                fault = self._take(parsed) if path == "/v1/sync" else None
                if fault and fault.where == "request":
                    upstream.sendall(request.raw[: fault.offset(len(request.raw))])
                    exchange.fault = "request"
                    return
                upstream.sendall(request.raw)
                answer = read_message(upstream, from_server)
                exchange.status = int(answer.start.split(" ")[1])
                exchange.answer = answer.json()
                if fault and fault.where == "headers":
                    client.sendall(answer.raw[: fault.offset(len(answer.head))])
                    exchange.fault = "headers"
                    return
                if fault and fault.where == "answer":
                    body_cut = fault.offset(len(answer.body)) if answer.body else 0
                    client.sendall(answer.raw[: len(answer.head) + body_cut])
                    exchange.fault = "answer"
                    return
                client.sendall(answer.raw)
                if "close" in answer.headers.get("connection", "").lower():
                    return
        except (OSError, EOFError, ValueError):
            return
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    sock.close()

    def replay(self, exchange: Exchange) -> tuple[int, dict | None]:
        """Send a logged request to the server again, byte for byte; returns its status and JSON."""
        with socket.create_connection(self.upstream) as sock:
            sock.sendall(exchange.raw)
            answer = read_message(sock, bytearray())
        return int(answer.start.split(" ")[1]), answer.json()


def pushes(request: dict | None) -> bool:
    """The request pushes at least one record."""
    if not request or "push" not in request:
        return False
    return any(g.get("records") for g in request["push"].get("batch", {}).get("groups", []))
