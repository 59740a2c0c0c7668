"""The errors a FieldSync client raises. Every one is a `FieldSyncError`; branch on the class or `code`."""

from __future__ import annotations


class FieldSyncError(Exception):
    """Base class. `code` is a short stable name (a problem code for server refusals)."""

    code = "error"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code


class RuleError(FieldSyncError):
    """A local write breaks a domain rule or the schema; nothing was written. `field` names the field."""

    code = "invalid-value"

    def __init__(self, message: str, field: str | None = None, code: str | None = None):
        super().__init__(message, code)
        self.field = field


class TransportError(FieldSyncError):
    """No whole answer came (no connection, a timeout, a cut connection): the server may or may not have
    applied the request (docs/protocol.md section 12)."""

    code = "transport"


class ProtocolError(FieldSyncError):
    """The server's answer breaks the protocol (unparseable, a stamp too far ahead, ...). Nothing saved."""

    code = "protocol"


class ProblemError(FieldSyncError):
    """The server refused the request with an RFC 9457 problem document (docs/protocol.md section 17)."""

    def __init__(self, status: int, problem: dict, retry_after: float | None = None):
        kind = str(problem.get("type", ""))
        code = kind.rsplit(":", 1)[-1] if kind.startswith("urn:fieldsync:problem:") else f"http-{status}"
        super().__init__(f"{status} {code}: {problem.get('detail', '')}", code)
        self.status = status
        self.problem = problem
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        """Retried with backoff (section 12): 408, 429 and 5xx except 507."""
        return self.status in (408, 429) or (500 <= self.status < 600 and self.status != 507)


class SyncStopped(FieldSyncError):
    """The sync stopped on purpose and needs a person (a revoked token, a second new node id in one sync,
    `wrong-node`, `relayed-stamps-ahead`, ...). `code` says why; the message says what to do."""

    code = "stopped"
