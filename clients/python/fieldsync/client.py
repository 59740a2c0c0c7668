"""`Client`: the API a partner's script uses. Everything but `enrol()` and `sync()` works offline."""

from __future__ import annotations

import time
from typing import Callable

from . import domain
from .errors import FieldSyncError, RuleError
from .hlc import counter_of, millis_of, new_node_id, node_hex, tick
from .hlc import record_id as make_record_id
from .store import Store
from .sync import SyncSummary, run_sync
from .transport import Transport
from .wire import Cell, is_value

DEFAULT_APP = "fieldsync-python/0.1"


class Client:
    """A FieldSync replica on this machine, synced with one server (a city hub or central).

    >>> client = Client("http://127.0.0.1:8081", token, "amina.fieldsync")
    >>> client.enrol()                       # once: asks the server who the token is, creates the node id
    >>> family = client.add_family("TUN-0042", "Fatma Ben Ali", phone="+216 98 123 456", household_size=5)
    >>> client.log_delivery(family, "food_pack", campaign="2026-winter")
    >>> client.sync()                        # SyncSummary(pushed=2, pulled=..., ...)

    `server_url` and `token` are saved in the store at the first use; `Client.open(path)` reopens it.
    `device_clock` (a function returning Unix ms) replaces the system clock, for tests.
    """

    def __init__(
        self, server_url: str | None, token: str | None, store_path: str, *, volunteer: str | None = None,
        city: str | None = None, app: str = DEFAULT_APP, device_clock: Callable[[], int] | None = None,
        batch_size: int = 1000, pull_limit: int = 1000, retry_attempts: int = 5, retry_base: float = 0.5,
        timeout: float = 60.0, ca_file: str | None = None,
    ):
        self.store = Store(store_path)
        with self.store.transaction():
            for key, value in (("server", server_url), ("token", token), ("volunteer", volunteer), ("city", city)):
                if value is not None:
                    self.store.put(key, value.strip() if key == "token" else value)
        if not self.store.get("server") or not self.store.get("token"):
            raise FieldSyncError(f"{store_path} has no server or token: give them (or run `fieldsync init`).")
        self.app = app
        self.device_clock = device_clock or (lambda: int(time.time() * 1000))
        self.batch_size, self.pull_limit = batch_size, pull_limit
        self.retry_attempts, self.retry_base = retry_attempts, retry_base
        self.transport = Transport(self.store.get("server"), self.store.get("token"), timeout=timeout, ca_file=ca_file)

    @classmethod
    def open(cls, store_path: str, **options) -> "Client":
        """Reopen an enrolled store (its server and token are in it)."""
        return cls(None, None, store_path, **options)

    def close(self) -> None:
        self.store.close()

    # who and when

    @property
    def node_id(self) -> str | None:
        node = self.store.get("node")
        return None if node is None else node_hex(int(node))

    @property
    def city(self) -> str | None:
        return self.store.get("city")

    @property
    def role(self) -> str:
        return self.store.get("role", "device")

    @property
    def volunteer(self) -> str:
        return self.store.get("volunteer") or self.store.get("name") or "volunteer"

    @property
    def clock_correction_ms(self) -> int:
        return int(self.store.get("correction", 0))

    def now(self) -> int:
        """The corrected clock (Unix ms): the device's clock plus what servers taught it (section 13)."""
        return self.device_clock() + self.clock_correction_ms

    def request_coding(self) -> str:
        """gzip until the server has said it takes zstd (section 8)."""
        from .transport import zstandard

        return "zstd" if zstandard and self.store.get("zstd") else "gzip"

    def enrol(self, *, check: bool = True) -> dict:
        """Create this replica's node id (once) and learn the token's role and city from `GET /v1/session`.

        Offline (`check=False`, or the server unreachable) the city given to the constructor is used."""
        session = {}
        if check:
            try:
                session = self.transport.call("GET", "/v1/session").body
            except FieldSyncError as error:
                if getattr(error, "code", "") == "unauthorized" or not self.city:
                    raise
        with self.store.transaction():
            if session:
                self.store.put("role", session.get("role"))
                self.store.put("name", session.get("name"))
                if session.get("city") is not None:
                    self.store.put("city", session["city"])
            if self.store.get("node") is None:
                self.store.put("node", new_node_id())
        if self.role != "admin" and not self.city:
            raise FieldSyncError("This device needs its city: the server did not say it; give city=...")
        return {"node": self.node_id, "role": self.role, "city": self.city, "volunteer": self.volunteer}

    # writes (offline)

    def write(self, collection: str, values: dict, *, record_id: str | None = None, check: bool = True) -> str:
        """Write one record: create it (no `record_id`, or one not held yet) or change its fields.

        One tick of the HLC stamps every field written (section 4). `check=False` skips the schema's
        checks and the domain rules (the server still checks them: a partner's tool, or a conformance test, uses it to send a record
        the server must refuse). Returns the record's id."""
        coll = domain.collection(collection)
        values = dict(values)
        for name, value in values.items():  # even unchecked, a record must be one the wire can carry
            if not is_value(value):
                raise RuleError(f"{name}: {value!r} is not a value (null, integer, real or text).", name)
        node = self.store.get("node")
        if node is None:
            raise FieldSyncError("Enrol first (enrol() or `fieldsync init`): this replica has no node id yet.")
        with self.store.transaction():
            now = self.now()
            hlc = tick(int(self.store.get("hlc", 0)), now)
            rid = record_id or make_record_id(millis_of(hlc), counter_of(hlc), int(node))
            existing = self.store.record(collection, rid, deleted=True)
            if existing is not None and coll.fact:
                raise RuleError(f"{collection} {rid} exists: a fact is never edited (void it instead).", None, "immutable")
            if coll.scope and self.role != "admin":
                if existing is None:
                    values.setdefault(coll.scope, self.city)
                if check and values.get(coll.scope, self.city) != self.city:
                    raise RuleError(f"This device writes only in {self.city}.", coll.scope, "out-of-scope")
            if check:
                domain.check_values(coll, values, existing is None)
                after = {**(existing or {}), **values}
                domain.check_record(collection, rid, after, set(values), self.store.record, self.store.records)
            self.store.put("hlc", hlc)
            seq = self.store.next_seq()
            self.store.log_write(seq, collection, rid, hlc, int(node), now)
            for name, value in values.items():
                self.store.put_cell(collection, rid, name, Cell(value, hlc, int(node)), seq)
        return rid

    def add_family(
        self, reference: str, head_name: str, *, phone: str | None = None, household_size: int | None = None,
        district: str | None = None, address: str | None = None, notes: str | None = None,
        association: str | None = None,
    ) -> str:
        """Register a family in this device's city; returns its id."""
        fields = dict(reference=reference, head_name=head_name, phone=phone, household_size=household_size,
                      district=district, address=address, notes=notes, association=association)
        return self.write("families", {k: v for k, v in fields.items() if v is not None})

    def edit_family(self, family: str, **fields) -> str:
        """Change fields of a family (by id or reference)."""
        return self.write("families", fields, record_id=self.family_id(family))

    def delete_family(self, family: str) -> str:
        """Delete a family (a tombstone; its deliveries stay)."""
        return self.write("families", {"_deleted": 1}, record_id=self.family_id(family))

    def log_delivery(
        self, family: str, item: str, *, quantity: int = 1, campaign: str | None = None, note: str | None = None
    ) -> str:
        """Log a delivery to a family (by id or reference); `delivered_at` is the corrected clock."""
        values = dict(family=self.family_id(family), item=item, quantity=quantity, delivered_at=self.now(),
                      volunteer=self.volunteer, campaign=campaign, note=note)
        return self.write("deliveries", {k: v for k, v in values.items() if v is not None})

    def void(self, delivery: str, reason: str) -> str:
        """Void a delivery logged by mistake (a new fact naming it; nothing is erased)."""
        if self.store.record("deliveries", delivery) is None:
            raise RuleError(f"There is no delivery {delivery!r} here.", "delivery")
        return self.write("delivery_voids", dict(delivery=delivery, reason=reason, volunteer=self.volunteer,
                                                 voided_at=self.now()))

    # reads (offline)

    def family_id(self, family: str) -> str:
        if self.store.record("families", family) is not None:
            return family
        matches = [i for i, v in self.store.records("families") if v.get("reference") == family]
        if len(matches) != 1:
            raise RuleError(f"No single family with id or reference {family!r} here.", "family")
        return matches[0]

    def record(self, collection: str, record_id: str) -> dict | None:
        return self.store.record(collection, record_id)

    def records(self, collection: str) -> dict[str, dict]:
        return dict(self.store.records(collection))

    def families(self) -> dict[str, dict]:
        return self.records("families")

    def deliveries(self) -> dict[str, dict]:
        return self.records("deliveries")

    def set_aside(self) -> list[dict]:
        """Records the server refused or that left this device's scope with a change of ours (section 14)."""
        return self.store.aside()

    def stamps(self, collection: str, record_id: str) -> dict[str, tuple[int, str]]:
        """Each field's stamp `(hlc, node)`: for checks and tests."""
        return {f: (c.hlc, node_hex(c.node)) for f, (c, _) in self.store.cells(collection, record_id).items()}

    def heartbeat(self, pushing: set[tuple[str, str]] = frozenset()) -> dict:
        """The heartbeat of a request that pushes the records `pushing` (section 16): `backlog` counts our
        records the server will still lack once it has applied this push, each once; pulled changes never
        count. `oldest_pending_ms` is the age of the oldest of them."""
        pending = {key: at for key, at in self.store.pending_records().items() if key not in pushing}
        return {
            "app": self.app,
            "backlog": len(pending),
            "oldest_pending_ms": max(0, self.now() - min(pending.values())) if pending else None,
            "last_error": self.store.get("last_error"),
            "clock_correction_ms": max(-(1 << 45), min(1 << 45, self.clock_correction_ms)),
        }

    def status(self) -> dict:
        last_sync = self.store.get("last_sync")
        return {
            "node": self.node_id,
            "previous_node": None if self.store.get("previous_node") is None else node_hex(int(self.store.get("previous_node"))),
            "server": self.store.get("server"),
            "role": self.role,
            "city": self.city,
            "pending": self.store.backlog(),
            "clock_correction_ms": self.clock_correction_ms,
            "last_sync": last_sync,
            "last_error": self.store.get("last_error"),
            "set_aside": len(self.store.aside()),
            "push_position": self.store.push_to,
            "pull_cursor": self.store.get("cursor", "0"),
        }

    # sync

    def sync(self) -> SyncSummary:
        """Push this replica's changes and pull the server's until both are drained (sections 9-16).

        Resumes after a cut or a crash; corrects the clock and repairs pending stamps on `clock-drift`;
        takes a new node id on `duplicate-node`/`node-taken`; sets refused and departed records aside.
        Raises a `FieldSyncError` when it cannot finish (nothing acknowledged is lost)."""
        return run_sync(self)
