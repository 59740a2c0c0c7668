"""The positional batch format (docs/protocol.md section 7), both ways.

A decoded record is a `Change`: its collection, id, and per field a `Cell` (value and stamp). A stamp is a
pair `(hlc, node)` of integers; stamps order by hlc, then by node (section 4).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .errors import ProtocolError
from .hlc import node_hex, parse_node

Stamp = tuple[int, int]
MAX_PUSH_RECORDS = 10_000


@dataclass
class Cell:
    value: object
    hlc: int
    node: int

    @property
    def stamp(self) -> Stamp:
        return (self.hlc, self.node)


@dataclass
class Change:
    collection: str
    id: str
    cells: dict[str, Cell] = field(default_factory=dict)


def is_value(value: object) -> bool:
    """null, a 64-bit integer, a finite real or a string; never a boolean (section 7)."""
    if value is None or isinstance(value, str):
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -(1 << 63) <= value < (1 << 63)
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    return False


def encode_batch(changes: list[Change]) -> dict:
    """The wire batch of `changes`: `nodes` first, then groups of one collection and one field list.

    A record's stamp is the one most of its cells share; the other cells go in `{"s": ...}`. Hlc deltas
    run across groups in the order the records are written (the first from 0)."""
    nodes: list[int] = []
    index: dict[int, int] = {}

    def node_index(node: int) -> int:
        if node not in index:
            index[node] = len(nodes)
            nodes.append(node)
        return index[node]

    groups: dict[tuple[str, tuple[str, ...]], list[Change]] = {}
    for change in changes:
        names = tuple(sorted(change.cells))
        groups.setdefault((change.collection, names), []).append(change)
    out_groups = []
    previous = 0
    for (collection, names), members in groups.items():
        rows = []
        for change in members:
            record_stamp = Counter(cell.stamp for cell in change.cells.values()).most_common(1)[0][0]
            hlc, node = record_stamp
            row: list = [change.id, hlc - previous, node_index(node)]
            previous = hlc
            row.extend(change.cells[name].value for name in names)
            apart = [
                [position, cell.hlc - hlc, node_index(cell.node)]
                for position, name in enumerate(names)
                if (cell := change.cells[name]).stamp != record_stamp
            ]
            if apart:
                row.append({"s": apart})
            rows.append(row)
        out_groups.append({"collection": collection, "fields": list(names), "records": rows})
    return {"nodes": [node_hex(n) for n in nodes], "groups": out_groups}


def _integer(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError(f"the answer's batch has {what} that is not an integer: {value!r}")
    return value


def decode_batch(batch: object) -> list[Change]:
    """The changes of a pulled batch, stamps resolved (deltas summed, node indexes looked up)."""
    if not isinstance(batch, dict):
        raise ProtocolError("the answer's batch is not an object")
    try:
        nodes = [parse_node(n) for n in batch.get("nodes", [])]
    except (ValueError, TypeError) as error:
        raise ProtocolError(f"the answer's batch has a bad node id: {error}") from None

    def node_at(position: object) -> int:
        position = _integer(position, "a node index")
        if not 0 <= position < len(nodes):
            raise ProtocolError(f"the answer's batch names node index {position} of {len(nodes)}")
        return nodes[position]

    changes: list[Change] = []
    previous = 0
    for group in batch.get("groups", []):
        collection, names = group.get("collection"), group.get("fields", [])
        if not isinstance(collection, str) or not isinstance(names, list):
            raise ProtocolError("the answer's batch has a group without a collection or fields")
        for row in group.get("records", []):
            if not isinstance(row, list) or len(row) < 3 or not isinstance(row[0], str):
                raise ProtocolError(f"the answer's batch has a malformed record in {collection}")
            values = row[3:]
            apart = []
            if len(values) == len(names) + 1 and isinstance(values[-1], dict):
                apart = values[-1].get("s", [])
                values = values[:-1]
            if len(values) != len(names):
                raise ProtocolError(f"record {row[0]} of {collection} has {len(values)} values for {len(names)} fields")
            hlc = previous + _integer(row[1], "an hlc delta")
            previous = hlc
            if hlc < 0 or hlc >= (1 << 63):  # millis < 2^47: an hlc stays below 2^63 (section 4)
                raise ProtocolError(f"record {row[0]} of {collection} has an hlc out of range")
            node = node_at(row[2])
            cells = {name: Cell(value, hlc, node) for name, value in zip(names, values)}
            for entry in apart:
                if not isinstance(entry, list) or len(entry) != 3:
                    raise ProtocolError(f"record {row[0]} of {collection} has a malformed cell stamp")
                position = _integer(entry[0], "a field position")
                if not 0 <= position < len(names):
                    raise ProtocolError(f"record {row[0]} of {collection} stamps field position {position}")
                cell_hlc = hlc + _integer(entry[1], "a cell hlc delta")
                if not 0 <= cell_hlc < (1 << 63):
                    raise ProtocolError(f"record {row[0]} of {collection} has a cell hlc out of range")
                cells[names[position]] = Cell(values[position], cell_hlc, node_at(entry[2]))
            changes.append(Change(collection, row[0], cells))
    return changes
