"""The local replica: one SQLite file, so that a killed script resumes where it stopped.

Tables:
- `meta`: the node id, the server, the token, the HLC (`hlc`, the greatest hlc issued or taken in), the
  local write counter (`seq`), the clock correction, the push position (`push_to`: the greatest `seq`
  the server acknowledged), the pull cursor, the current lease and the pending pair.
- `cells`: one row per field of a record, with its stamp `(hlc, node)`; `seq` is the local write that set
  it when this node wrote the value (null for a value pulled from the server). A cell with
  `seq > push_to` is a pending change of ours (docs/protocol.md section 9).
- `writes`: one row per local write (one tick): its stamp and time. Repair rule 3 needs the stamps of
  our earlier writes, the overwritten ones included (section 13).
- `aside`: records set aside after a refusal or a departure, with the refusal (section 14).

Every method that changes state expects to run inside `transaction()`.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import contextmanager
from typing import Iterator

from .wire import Cell, Change

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cells (
    collection TEXT NOT NULL, id TEXT NOT NULL, field TEXT NOT NULL,
    value, hlc INTEGER NOT NULL, node INTEGER NOT NULL, seq INTEGER,
    PRIMARY KEY (collection, id, field)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS cells_seq ON cells (seq) WHERE seq IS NOT NULL;
CREATE TABLE IF NOT EXISTS writes (
    seq INTEGER PRIMARY KEY, collection TEXT NOT NULL, id TEXT NOT NULL,
    hlc INTEGER NOT NULL, node INTEGER NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS aside (
    n INTEGER PRIMARY KEY AUTOINCREMENT, collection TEXT NOT NULL, id TEXT NOT NULL,
    code TEXT NOT NULL, field TEXT, detail TEXT NOT NULL, stays INTEGER NOT NULL,
    source TEXT NOT NULL, record TEXT NOT NULL, at INTEGER NOT NULL);
"""

_MISSING = object()


class Store:
    """The replica file. Open it with `Store(path)`; it is created (mode 0600) when missing."""

    def __init__(self, path: str):
        self.path = path
        if not os.path.exists(path):
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(path, 0o600)
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA_SQL)
        for suffix in ("-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.chmod(path + suffix, 0o600)
        self._depth = 0

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One SQLite transaction (nested calls join the outer one): all of it is saved, or none."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")
        finally:
            self._depth = 0

    # meta

    def get(self, key: str, default=None):
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else row[0]

    def has(self, key: str) -> bool:
        return self.db.execute("SELECT 1 FROM meta WHERE key = ?", (key,)).fetchone() is not None

    def put(self, key: str, value) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def forget(self, key: str) -> None:
        self.db.execute("DELETE FROM meta WHERE key = ?", (key,))

    def next_seq(self) -> int:
        seq = int(self.get("seq", 0)) + 1
        self.put("seq", seq)
        return seq

    @property
    def push_to(self) -> int:
        return int(self.get("push_to", 0))

    # records

    def cells(self, collection: str, record_id: str) -> dict[str, tuple[Cell, int | None]]:
        rows = self.db.execute(
            "SELECT field, value, hlc, node, seq FROM cells WHERE collection = ? AND id = ?", (collection, record_id)
        )
        return {f: (Cell(v, h, n), s) for f, v, h, n, s in rows}

    def record(self, collection: str, record_id: str, *, deleted: bool = False) -> dict | None:
        """A record's values, or None when absent (or deleted, unless `deleted`)."""
        rows = self.db.execute(
            "SELECT field, value FROM cells WHERE collection = ? AND id = ?", (collection, record_id)
        ).fetchall()
        values = dict(rows)
        if not values or (values.get("_deleted") == 1 and not deleted):
            return None
        return values

    def records(self, collection: str) -> list[tuple[str, dict]]:
        """The live records of a collection (tombstones left out), ordered by id."""
        out: dict[str, dict] = {}
        rows = self.db.execute("SELECT id, field, value FROM cells WHERE collection = ? ORDER BY id", (collection,))
        for record_id, name, value in rows:
            out.setdefault(record_id, {})[name] = value
        return [(i, v) for i, v in out.items() if v.get("_deleted") != 1]

    def put_cell(self, collection: str, record_id: str, name: str, cell: Cell, seq: int | None) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO cells (collection, id, field, value, hlc, node, seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (collection, record_id, name, cell.value, cell.hlc, cell.node, seq),
        )

    def delete_record(self, collection: str, record_id: str) -> None:
        self.db.execute("DELETE FROM cells WHERE collection = ? AND id = ?", (collection, record_id))

    def log_write(self, seq: int, collection: str, record_id: str, hlc: int, node: int, at: int) -> None:
        self.db.execute(
            "INSERT INTO writes (seq, collection, id, hlc, node, at) VALUES (?, ?, ?, ?, ?, ?)",
            (seq, collection, record_id, hlc, node, at),
        )

    # pending changes (ours, after the push position)

    def pending_page(self, limit: int) -> tuple[list[Change], int, bool]:
        """The next page of our changes after the push position: the writes of at most `limit` records
        (a record written several times goes once), the position once it is applied, and whether more
        remain after it."""
        records: set[tuple[str, str]] = set()
        to, more = self.push_to, False
        rows = self.db.execute(
            "SELECT seq, collection, id FROM cells WHERE seq > ? GROUP BY seq ORDER BY seq", (self.push_to,)
        )
        for seq, collection, record_id in rows:
            if (collection, record_id) not in records and len(records) == limit:
                more = True
                break
            records.add((collection, record_id))
            to = seq
        if not records:
            return [], self.push_to, False
        changes: dict[tuple[str, str], Change] = {}
        rows = self.db.execute(
            "SELECT collection, id, field, value, hlc, node FROM cells WHERE seq > ? AND seq <= ? ORDER BY seq, field",
            (self.push_to, to),
        )
        for collection, record_id, name, value, hlc, node in rows:
            change = changes.setdefault((collection, record_id), Change(collection, record_id))
            change.cells[name] = Cell(value, hlc, node)
        return list(changes.values()), to, more

    def pending_cells(self, collection: str, record_id: str) -> dict[str, Cell]:
        rows = self.db.execute(
            "SELECT field, value, hlc, node FROM cells WHERE collection = ? AND id = ? AND seq > ?",
            (collection, record_id, self.push_to),
        )
        return {f: Cell(v, h, n) for f, v, h, n in rows}

    def pending_records(self) -> dict[tuple[str, str], int]:
        """Our records with a change after the push position, each with the time of its oldest pending
        write (the heartbeat's `backlog` and `oldest_pending_ms`, section 16)."""
        rows = self.db.execute(
            "SELECT c.collection, c.id, MIN(w.at) FROM cells c JOIN writes w ON w.seq = c.seq"
            " WHERE c.seq > ? GROUP BY c.collection, c.id",
            (self.push_to,),
        )
        return {(collection, record_id): at for collection, record_id, at in rows}

    def backlog(self) -> int:
        """Records we created or changed after the push position, each counted once."""
        (count,) = self.db.execute(
            "SELECT COUNT(*) FROM (SELECT DISTINCT collection, id FROM cells WHERE seq > ?)", (self.push_to,)
        ).fetchone()
        return count

    # set aside

    def set_aside(
        self, collection: str, record_id: str, refusal: dict, source: str, at: int, *, keep: bool,
        copy: dict[str, Cell] | None = None,
    ) -> None:
        """Keep a copy of the record (or `copy`, the refused change) with its refusal; without `keep`,
        take the record out of the live tables (section 14)."""
        if copy is None:
            copy = {f: c for f, (c, _) in self.cells(collection, record_id).items()}
        record = {f: {"value": c.value, "hlc": c.hlc, "node": f"{c.node:016x}"} for f, c in copy.items()}
        self.db.execute(
            "INSERT INTO aside (collection, id, code, field, detail, stays, source, record, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                collection, record_id, str(refusal.get("code", "refused")), refusal.get("field"),
                str(refusal.get("detail", "")), 1 if keep else 0, source, json.dumps(record, ensure_ascii=False), at,
            ),
        )
        if not keep:
            self.delete_record(collection, record_id)

    def aside(self) -> list[dict]:
        rows = self.db.execute(
            "SELECT n, collection, id, code, field, detail, stays, source, record, at FROM aside ORDER BY n"
        )
        keys = ("n", "collection", "id", "code", "field", "detail", "stays", "source", "record", "at")
        out = []
        for row in rows:
            entry = dict(zip(keys, row))
            entry["stays"] = bool(entry["stays"])
            entry["record"] = json.loads(entry["record"])
            out.append(entry)
        return out
