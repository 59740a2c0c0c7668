"""Node ids, the hybrid logical clock and record ids (docs/protocol.md sections 3, 4 and 5)."""

from __future__ import annotations

import secrets

MAX_MILLIS = (1 << 47) - 1
"""`millis` of an hlc stays below 2^47 (section 4)."""
MAX_TIME_VALUE = (1 << 48) - 1
"""A repaired time value inside a record is clamped to 0 ... 2^48 - 1 (section 13, repair rule 5)."""
COUNTER_MASK = 0xFFFF
SERVER_STAMP_BOUND_MS = 300_000
"""A pulled stamp of the server's own node may be at most 5 minutes ahead (sections 4 and 10)."""
RELAYED_STAMP_BOUND_MS = 600_000
"""A pulled stamp of any other node may be at most 10 minutes ahead (sections 4 and 10)."""
DRIFT_BOUND_MS = 300_000
"""The server's drift bound, B in the repair rules (section 13)."""

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def pack(millis: int, counter: int) -> int:
    """An hlc value: `millis << 16 | counter`."""
    return (millis << 16) | counter


def millis_of(hlc: int) -> int:
    return hlc >> 16


def counter_of(hlc: int) -> int:
    return hlc & COUNTER_MASK


def tick(last: int, now: int) -> int:
    """The stamp of a local write (section 4, "Tick"): never equal to or below `last`."""
    p = min(now, MAX_MILLIS)
    if p > millis_of(last):
        return pack(p, 0)
    if counter_of(last) == COUNTER_MASK:
        return pack(millis_of(last) + 1, 0)
    return last + 1


def new_node_id() -> int:
    """63 random bits from a secure generator, never 0 (section 3)."""
    while True:
        value = secrets.randbits(63)
        if value:
            return value


def node_hex(node: int) -> str:
    return f"{node:016x}"


def parse_node(text: str) -> int:
    if not isinstance(text, str) or len(text) != 16:
        raise ValueError(f"not a node id: {text!r}")
    value = int(text, 16)
    if not 0 < value < (1 << 63):
        raise ValueError(f"not a node id: {text!r}")
    return value


def new_lease() -> str:
    """A lease value: 64 random bits as 16 hex digits (section 11)."""
    return f"{secrets.randbits(64):016x}"


def record_id(millis: int, counter: int, node_id: int, random24: int | None = None) -> str:
    """The Swift client's id layout, as section 5 gives it: 26 Crockford base32 characters holding the
    creating stamp's millis (48 bits), `node_id >> 23` (40 bits), its counter (16 bits), 24 random bits."""
    if random24 is None:
        random24 = secrets.randbits(24)
    node40 = (node_id >> 23) & ((1 << 40) - 1)
    value = (millis << 80) | (node40 << 40) | (counter << 24) | random24
    return "".join(CROCKFORD[(value >> (125 - 5 * i)) & 31] for i in range(26))
