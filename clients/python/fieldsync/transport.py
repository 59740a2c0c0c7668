"""HTTP for the protocol: one connection per request, compression both ways, whole answers only.

An answer counts only when it is whole (docs/protocol.md section 12): a status line, headers, a body of
the length `Content-Length` says (or a complete chunked body), decompressed and parsed. Anything less
raises `TransportError`: the caller does not know whether the server applied the request.
"""

from __future__ import annotations

import gzip
import http.client
import json
import random
import ssl
import time
import zlib
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

from .errors import ProblemError, TransportError

try:  # zstd is optional: without it the client sends and accepts gzip only.
    import zstandard
except ImportError:  # pragma: no cover
    zstandard = None

ACCEPT = "zstd, gzip" if zstandard else "gzip"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: dict
    size: int

    @property
    def server_takes_zstd(self) -> bool:
        offered = [c.strip().split(";")[0].lower() for c in self.headers.get("accept-encoding", "").split(",")]
        return "zstd" in offered


def compress(data: bytes, coding: str) -> bytes:
    if coding == "zstd":
        return zstandard.ZstdCompressor(level=3).compress(data)
    if coding == "gzip":
        return gzip.compress(data, compresslevel=6)
    return data


def decompress(data: bytes, coding: str) -> bytes:
    coding = coding.strip().lower()
    if coding in ("", "identity"):
        return data
    if coding == "zstd" and zstandard:
        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    if coding in ("gzip", "x-gzip"):
        return gzip.decompress(data)
    if coding == "deflate":
        return zlib.decompress(data)
    raise TransportError(f"the answer is in a coding this client does not read: {coding!r}")


class Transport:
    """Talks to one server with one bearer token. Never logs or shows the token."""

    def __init__(self, server_url: str, token: str, *, timeout: float = 60.0, ca_file: str | None = None):
        parts = urlsplit(server_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not a server URL: {server_url!r} (http://host:port or https://host)")
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.https else 80)
        self.base = parts.path
        self.token = token.strip()
        self.timeout = timeout
        self.context = ssl.create_default_context(cafile=ca_file) if self.https else None

    def _connection(self) -> http.client.HTTPConnection:
        if self.https:
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout, context=self.context)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def call(self, method: str, path: str, body: dict | None = None, coding: str = "gzip") -> Answer:
        """One request; returns a whole 2xx answer or raises `ProblemError` / `TransportError`."""
        headers = {"Authorization": f"Bearer {self.token}", "Accept-Encoding": ACCEPT}
        payload = None
        if body is not None:
            payload = compress(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(), coding)
            headers["Content-Type"] = "application/json"
            if coding != "identity":
                headers["Content-Encoding"] = coding
        connection = self._connection()
        try:
            connection.request(method, self.base + path, body=payload, headers=headers)
            response = connection.getresponse()
            status = response.status
            answer_headers = {k.lower(): v for k, v in response.getheaders()}
            if "content-length" not in answer_headers and "chunked" not in answer_headers.get("transfer-encoding", ""):
                raise TransportError("the answer has no Content-Length: it cannot be known to be whole")
            raw = response.read()  # raises IncompleteRead when shorter than Content-Length
        except TransportError:
            raise
        except (OSError, http.client.HTTPException) as error:
            raise TransportError(f"no whole answer from the server ({type(error).__name__}: {error})") from None
        finally:
            connection.close()
        try:
            text = decompress(raw, answer_headers.get("content-encoding", ""))
            parsed = json.loads(text) if text else {}
        except (OSError, ValueError, zlib.error, EOFError) as error:
            raise TransportError(f"the answer's body does not decompress or parse ({error})") from None
        except Exception as error:  # zstandard.ZstdError
            raise TransportError(f"the answer's body does not decompress ({error})") from None
        if not 200 <= status < 300:
            if not isinstance(parsed, dict):
                parsed = {"detail": str(parsed)}
            retry_after = answer_headers.get("retry-after")
            raise ProblemError(status, parsed, float(retry_after) if retry_after and retry_after.isdigit() else None)
        if not isinstance(parsed, dict):
            raise TransportError("the answer is not a JSON object")
        return Answer(status, answer_headers, parsed, len(raw))


def with_retries(
    attempt: Callable[[], Answer], *, attempts: int = 5, base: float = 0.5, cap: float = 30.0,
    sleep: Callable[[float], None] = time.sleep, on_retry: Callable[[Exception], None] | None = None,
) -> Answer:
    """Retry transient failures (no whole answer, 408, 429, 5xx but 507) with exponential backoff and full
    jitter, never waiting less than `Retry-After` (docs/protocol.md section 12)."""
    for number in range(attempts):
        try:
            return attempt()
        except (TransportError, ProblemError) as error:
            transient = isinstance(error, TransportError) or error.transient
            if not transient or number == attempts - 1:
                raise
            delay = random.uniform(0, min(cap, base * (2**number)))
            if isinstance(error, ProblemError) and error.retry_after:
                delay = max(delay, error.retry_after)
            if on_retry:
                on_retry(error)
            sleep(delay)
    raise AssertionError("unreachable")
