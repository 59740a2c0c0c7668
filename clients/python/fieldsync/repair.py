"""The clock repair of docs/protocol.md section 13 ("The repair", rules 1 to 5), on the local store."""

from __future__ import annotations

from . import domain
from .hlc import DRIFT_BOUND_MS, MAX_MILLIS, MAX_TIME_VALUE, counter_of, millis_of, pack
from .store import Store


def _clamp(value: int, high: int) -> int:
    return max(0, min(high, value))


def repair(store: Store, d: int, now: int, node: int) -> tuple[int, int]:
    """Move what the wrong clock wrote by `d` ms; `now` is the corrected clock after any correction.

    Returns (stamps moved, time values moved). Runs inside the caller's transaction, which also saves the
    correction (rule 6)."""
    limit = now + DRIFT_BOUND_MS
    pos = store.push_to

    def picked(millis: int) -> bool:  # rule 1: the stamps (and values) the wrong clock made
        if d < 0:
            return millis > limit
        if d > 0:
            return millis + d <= limit
        return False

    db = store.db
    pending = [h for (h,) in db.execute("SELECT DISTINCT hlc FROM cells WHERE seq > ? AND node = ?", (pos, node))]
    moved = {h: pack(_clamp(millis_of(h) + d, MAX_MILLIS), counter_of(h)) for h in pending if picked(millis_of(h))}

    # Rule 3: F, the greatest of our stamps that do not move and are not ahead (acknowledged or not, the
    # overwritten ones included: every local write is in `writes`).
    floor = None
    for seq, hlc in db.execute("SELECT seq, hlc FROM writes"):
        if millis_of(hlc) <= limit and not (seq > pos and hlc in moved):
            floor = hlc if floor is None else max(floor, hlc)
    if moved and floor is not None:
        lowest = min(moved.values())
        if lowest <= floor:
            extra = floor + 1 - lowest
            moved = {old: new + extra for old, new in moved.items()}

    if moved:  # rule 2: one statement per table, so that no stamp is moved twice
        db.execute("CREATE TEMP TABLE IF NOT EXISTS moves (old INTEGER PRIMARY KEY, new INTEGER NOT NULL)")
        db.execute("DELETE FROM moves")
        db.executemany("INSERT INTO moves (old, new) VALUES (?, ?)", moved.items())
        db.execute(
            "UPDATE cells SET hlc = (SELECT new FROM moves WHERE old = cells.hlc)"
            " WHERE seq > ? AND node = ? AND hlc IN (SELECT old FROM moves)",
            (pos, node),
        )
        db.execute(
            "UPDATE writes SET hlc = (SELECT new FROM moves WHERE old = writes.hlc)"
            " WHERE seq > ? AND hlc IN (SELECT old FROM moves)",
            (pos,),
        )

    # Rule 4: the HLC comes back with the stamps it made.
    last = int(store.get("hlc", 0))
    if picked(millis_of(last)):
        last = pack(_clamp(millis_of(last) + d, MAX_MILLIS), counter_of(last))
    (newest,) = db.execute(
        "SELECT MAX(hlc) FROM cells WHERE (collection, id) IN (SELECT collection, id FROM cells WHERE seq > ?)", (pos,)
    ).fetchone()
    # Also never below F: a stamp we issued that the server holds (see GAPS.md, "HLC after a repair").
    last = max(v for v in (last, newest, floor) if v is not None)
    store.put("hlc", last)

    # Rule 5: time values inside our pending facts, judged on the value itself.
    values = 0
    for coll in domain.SCHEMA.values():
        if not coll.fact or not coll.timestamps:
            continue
        marks = ",".join("?" * len(coll.timestamps))
        rows = db.execute(
            f"SELECT id, field, value FROM cells WHERE collection = ? AND seq > ? AND node = ? AND field IN ({marks})"
            " AND typeof(value) = 'integer'",
            (coll.name, pos, node, *coll.timestamps),
        ).fetchall()
        for record_id, name, value in rows:
            if (d < 0 and value > limit) or (d > 0 and value + d <= limit):
                db.execute(
                    "UPDATE cells SET value = ? WHERE collection = ? AND id = ? AND field = ?",
                    (_clamp(value + d, MAX_TIME_VALUE), coll.name, record_id, name),
                )
                values += 1
    return len(moved), values
