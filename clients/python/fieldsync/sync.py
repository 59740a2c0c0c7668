"""The sync loop (docs/protocol.md sections 9 to 16): one request at a time until both sides are drained.

`run_sync(client)` is what `Client.sync()` calls. Every answer is saved in one transaction with the
page it carries, the push position, the pull cursor, the lease and the refused and departed records.
"""

from __future__ import annotations

import fcntl
import time
from dataclasses import dataclass, field

from . import domain, repair
from .errors import FieldSyncError, ProblemError, ProtocolError, SyncStopped
from .hlc import RELAYED_STAMP_BOUND_MS, SERVER_STAMP_BOUND_MS, millis_of, new_lease, new_node_id, node_hex, parse_node
from .transport import Answer, with_retries
from .wire import Change, decode_batch, encode_batch

MAX_REPAIRS = 3
"""Clock repairs in one sync before giving up (section 13: "give up after 3 repairs in one sync")."""
INT64_EXTREMES = (-(1 << 63), (1 << 63) - 1)


@dataclass
class SyncSummary:
    """What one `sync()` did."""

    pushed: int = 0
    """Our records the server acknowledged (refused ones included)."""
    pulled: int = 0
    """Records received from the server."""
    refused: list[dict] = field(default_factory=list)
    """Refusals of our records (`push.refused` and `pull.refused`): set aside."""
    left: int = 0
    """Records that left our scope and were deleted (or set aside)."""
    conflicts: int = 0
    round_trips: int = 0
    bytes: int = 0
    repaired_stamps: int = 0
    repaired_values: int = 0
    clock_causes: list[str] = field(default_factory=list)
    """The `cause` of each `clock-drift` refusal met (None for a server that sends none)."""
    clock_correction_ms: int = 0
    rekeyed_from: str | None = None
    """The node id given up during this sync (after `duplicate-node` or `node-taken`)."""
    millis: int = 0


class Sync:
    def __init__(self, client):
        self.client = client
        self.store = client.store
        self.summary = SyncSummary()
        self.heartbeat_due = True
        self.repairs = 0
        self.rekeyed = False
        self.batch_size = client.batch_size

    # the loop

    def run(self) -> SyncSummary:
        started = time.monotonic()
        if not self.store.get("node"):
            raise SyncStopped("This replica is not enrolled: call enrol() (or `fieldsync init`) first.", "not-enrolled")
        try:
            while True:
                try:
                    self._settle_pending_lease()
                    while not self._step():
                        pass
                    break
                except ProblemError as problem:
                    self._on_problem(problem)
        except FieldSyncError as error:
            with self.store.transaction():
                self.store.put("last_error", str(error)[:500])
            raise
        with self.store.transaction():
            self.store.put("last_error", None)
            self.store.put("last_sync", self.client.now())
        self.summary.clock_correction_ms = self.client.clock_correction_ms
        self.summary.millis = int((time.monotonic() - started) * 1000)
        return self.summary

    def _on_problem(self, problem: ProblemError) -> None:
        code = problem.code
        if code == "clock-drift":
            self._repair_clock(problem.problem)
        elif code in ("duplicate-node", "node-taken"):
            if self.rekeyed:
                raise SyncStopped(
                    f"A second {code} in one sync: stopped. Report it (section 15). Server: {problem}", code
                ) from None
            self._rekey()
        elif code == "too-large" and self.batch_size > 1:
            self.batch_size //= 2  # section 17: send smaller pages (the pair stays pending, rule 4)
        elif code == "unauthorized":
            raise SyncStopped("The server refuses this token (wrong or revoked): enrol again with a new one.", code)
        elif code == "wrong-node":
            raise SyncStopped(
                "This token belongs to another copy of this device: this device needs its own token (enrol again).",
                code,
            )
        else:
            raise problem

    # one request

    def _request(
        self, lease: dict, push: dict | None = None, pull: dict | None = None, page: list[Change] | None = None
    ) -> tuple[Answer, int, int]:
        """Send one request (again on transient failures, same lease pair and page, a fresh clock)."""
        client = self.client
        times = {}

        def attempt() -> Answer:
            body: dict = {"v": 1, "node": node_hex(int(self.store.get("node"))), "clock": client.now(), "lease": lease}
            if self.store.get("previous_node") is not None:
                body["rekeyed_from"] = node_hex(int(self.store.get("previous_node")))
            if push is not None:
                body["push"] = push
            if pull is not None:
                body["pull"] = pull
            if self.heartbeat_due:
                pushing = {(c.collection, c.id) for c in page} if page else set()
                body["heartbeat"] = client.heartbeat(pushing)
            times["sent"] = body["clock"]
            answer = client.transport.call("POST", "/v1/sync", body, client.request_coding())
            times["received"] = client.now()
            return answer

        answer = with_retries(attempt, attempts=client.retry_attempts, base=client.retry_base)
        self.summary.round_trips += 1
        self.summary.bytes += answer.size
        for key in ("v", "node", "clock"):
            if key not in answer.body:
                raise ProtocolError(f"the server's answer has no {key!r}")
        if (push is not None) != ("push" in answer.body) or (pull is not None) != ("pull" in answer.body):
            raise ProtocolError("the server's answer does not match the request (push/pull)")
        return answer, times["sent"], times["received"]

    def _after_answer(self, answer: Answer, sent: int, received: int) -> None:
        """In the answer's transaction: the lease, the clock exchange, zstd from now on."""
        store = self.store
        store.put("lease", store.get("pending_next"))
        store.forget("pending_next")
        store.forget("pending_previous")
        store.put("server_node", answer.body["node"])
        if answer.server_takes_zstd:
            store.put("zstd", 1)
        server_clock = answer.body["clock"]
        if isinstance(server_clock, int) and not isinstance(server_clock, bool):
            residual = server_clock - (sent + received) // 2
            if abs(residual) > 2000 and abs(residual) > (received - sent) / 2:
                store.put("correction", self.client.clock_correction_ms + residual)
        self.heartbeat_due = False

    def _new_lease(self) -> dict:
        """Draw the next lease and save the pending pair before the request leaves (section 11, rule 1)."""
        with self.store.transaction():
            previous, following = self.store.get("lease"), new_lease()
            self.store.put("pending_previous", previous)
            self.store.put("pending_next", following)
        return {"previous": previous, "next": following}

    def _settle_pending_lease(self) -> None:
        """Rule 4: a sync that starts with a pending pair sends it alone first."""
        if not self.store.has("pending_next"):
            return
        lease = {"previous": self.store.get("pending_previous"), "next": self.store.get("pending_next")}
        answer, sent, received = self._request(lease)
        with self.store.transaction():
            self._after_answer(answer, sent, received)

    def _step(self) -> bool:
        """One request: a page of our changes and/or a page of the server's. True when both are drained."""
        store, client = self.store, self.client
        page, to, more_push = store.pending_page(self.batch_size)
        push = {"to": str(to), "batch": encode_batch(page)} if page else None
        pull = None if more_push else {"cursor": store.get("cursor", "0"), "limit": client.pull_limit}
        answer, sent, received = self._request(self._new_lease(), push, pull, page)
        pulled = self._check_pulled(answer) if pull is not None else None
        with store.transaction():
            self._after_answer(answer, sent, received)
            if push is not None:
                self._save_push(answer.body["push"], page, to)
            if pulled is not None:
                self._save_pull(answer.body["pull"], pulled)
        return pull is not None and not answer.body["pull"].get("more", False)

    # push and pull

    def _save_push(self, ack: dict, page: list[Change], to: int) -> None:
        if ack.get("to") != str(to):
            raise ProtocolError(f"the server acknowledged {ack.get('to')!r}, not {to}")
        sent = {(c.collection, c.id): c for c in page}
        now = self.client.now()
        for refusal in ack.get("refused", []) or []:
            key = (refusal.get("collection"), refusal.get("id"))
            if key not in sent:
                continue
            stays = refusal.get("stays") is True
            self.store.set_aside(*key, refusal, "push", now, keep=stays, copy=sent[key].cells if stays else None)
            self.summary.refused.append(refusal)
        self.store.put("push_to", to)
        self.summary.pushed += len(page)
        self.summary.conflicts += int(ack.get("conflicts", 0) or 0)

    def _check_pulled(self, answer: Answer) -> list[Change]:
        """Decode the page and refuse it whole if a stamp is too far ahead (section 10)."""
        page = answer.body["pull"]
        if not isinstance(page.get("cursor"), str) or not isinstance(page.get("batch", {}), dict):
            raise ProtocolError("the server's pull page has no cursor")
        changes = decode_batch(page.get("batch", {}))
        server = parse_node(answer.body["node"])
        now, last_millis = self.client.now(), millis_of(int(self.store.get("hlc", 0)))
        for change in changes:
            for cell in change.cells.values():
                bound = SERVER_STAMP_BOUND_MS if cell.node == server else RELAYED_STAMP_BOUND_MS
                millis = millis_of(cell.hlc)
                if millis > last_millis and millis > now + bound:
                    raise ProtocolError(
                        f"the server sent a stamp {millis - now} ms ahead of this device's clock (record {change.id}"
                        f" of {change.collection}): its clock or data is broken; nothing was saved, sync later"
                    )
        return changes

    def _save_pull(self, page: dict, changes: list[Change]) -> None:
        store = self.store
        newest = int(store.get("hlc", 0))
        for change in changes:
            newest = max([newest, *(c.hlc for c in change.cells.values())])
            self.summary.conflicts += self._merge(change)
        store.put("hlc", newest)
        store.put("cursor", page["cursor"])
        self.summary.pulled += len(changes)
        now = self.client.now()
        refused = {(r.get("collection"), r.get("id")): r for r in page.get("refused", []) or []}
        for collection, ids in (page.get("left") or {}).items():
            for record_id in ids:
                refusal = refused.get((collection, record_id))
                if refusal is not None:
                    store.set_aside(collection, record_id, refusal, "pull", now, keep=False)
                    self.summary.refused.append(refusal)
                elif store.pending_cells(collection, record_id):
                    detail = "This record left this device's scope (moved to another city) before this change was sent."
                    store.set_aside(
                        collection, record_id, {"code": "out-of-scope", "detail": detail}, "left", now, keep=False
                    )
                    self.summary.refused.append({"collection": collection, "id": record_id, "code": "out-of-scope"})
                else:
                    store.delete_record(collection, record_id)
                self.summary.left += 1

    def _merge(self, change: Change) -> int:
        """Merge one pulled record (section 10). Returns the conflicts (values of two nodes) it resolved."""
        store = self.store
        stored = store.cells(change.collection, change.id)
        if domain.collection(change.collection).fact:
            if stored:
                mine = min(c.stamp for c, _ in stored.values())
                theirs = min(c.stamp for c in change.cells.values())
                if theirs > mine:
                    return 0
                if theirs < mine:
                    store.delete_record(change.collection, change.id)
                    stored = {}
            for name, cell in change.cells.items():
                if name not in stored:
                    store.put_cell(change.collection, change.id, name, cell, None)
            return 0
        conflicts = 0
        for name, cell in change.cells.items():
            old = stored.get(name)
            if old is None or cell.stamp > old[0].stamp:
                store.put_cell(change.collection, change.id, name, cell, None)
            if old is not None and old[0].stamp != cell.stamp and old[0].node != cell.node:
                conflicts += 1
        return conflicts

    # clock repair and a new node id

    def _repair_clock(self, problem: dict) -> None:
        cause = problem.get("cause")
        self.summary.clock_causes.append(cause)
        d, server_clock = problem.get("offset_ms"), problem.get("server_clock")
        if cause == "relayed-stamps-ahead":
            raise SyncStopped(
                "The server refuses a stamp of another node this replica relays (more than 10 minutes ahead): "
                "nothing here can repair it. Tell the operator.", "clock-drift",
            )
        if not isinstance(d, int) or d in INT64_EXTREMES or d == 0:
            raise SyncStopped(f"clock-drift with an offset that cannot be repaired ({d!r}): report it.", "clock-drift")
        self.repairs += 1
        if self.repairs > MAX_REPAIRS:
            raise SyncStopped(f"Still refused for its clock after {MAX_REPAIRS} repairs: stopped.", "clock-drift")
        client = self.client
        with self.store.transaction():
            if cause in ("clock-ahead", "clock-behind"):
                self.store.put("correction", client.clock_correction_ms + d)
            elif cause != "stamps-ahead" and isinstance(server_clock, int):
                self.store.put("correction", client.clock_correction_ms + server_clock - client.now())
            stamps, values = repair.repair(self.store, d, client.now(), int(self.store.get("node")))
            if cause == "stamps-ahead" and stamps == 0:
                raise SyncStopped(
                    "The server finds this device's stamps ahead, but none of them can be repaired: stopped "
                    "(the same request would be refused again).", "clock-drift",
                )
        self.summary.repaired_stamps += stamps
        self.summary.repaired_values += values
        self.heartbeat_due = True

    def _rekey(self) -> None:
        """Section 15: a new node id, our pending writes move to it, leases forgotten, pull again from "0"."""
        store = self.store
        with store.transaction():
            old = int(store.get("node"))
            new = new_node_id()
            store.db.execute("UPDATE cells SET node = ? WHERE seq > ? AND node = ?", (new, store.push_to, old))
            store.put("node", new)
            store.put("previous_node", old)
            for key in ("lease", "pending_next", "pending_previous"):
                store.forget(key)
            store.put("cursor", "0")
        self.rekeyed = True
        self.summary.rekeyed_from = node_hex(old)


def run_sync(client) -> SyncSummary:
    """One sync at a time per store (another process syncing the same file waits for it)."""
    with open(client.store.path + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return Sync(client).run()
