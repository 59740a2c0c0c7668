"""Unit tests of the Python client's pieces, against the examples and rules of docs/protocol.md."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fieldsync import Client, RuleError  # noqa: E402
from fieldsync.hlc import MAX_MILLIS, millis_of, pack, record_id, tick  # noqa: E402
from fieldsync.repair import repair  # noqa: E402
from fieldsync.wire import Cell, Change, decode_batch, encode_batch  # noqa: E402

HOUR = 3_600_000
T = 1_764_019_802_000


def test_the_examples_of_sections_4_and_5():
    assert pack(T, 0) == 115606801743872000
    node = 0x5F3A9C0E12AB44D1
    # 48 bits of millis and 40 bits of node: the first 17 characters, and 3 bits of the 18th
    assert record_id(1764019700000, 0, node, 0)[:17] == "01KAVW9090QSTKG71"
    assert record_id(T, 0, node, 0)[:17] == "01KAVWC3WGQSTKG71"


def test_tick_follows_the_clock_never_goes_back_and_carries_the_counter():
    assert tick(pack(T, 5), T + 1) == pack(T + 1, 0)
    assert tick(pack(T, 5), T - 1000) == pack(T, 6)
    assert tick(pack(T, 0xFFFF), T) == pack(T + 1, 0)
    assert millis_of(tick(0, 1 << 60)) == MAX_MILLIS


def test_a_batch_survives_the_wire_with_cell_stamps_and_deltas_across_groups():
    a, b = 0x1111111111111111, 0x2222222222222222
    changes = [
        Change("families", "f1", {"city": Cell("Tunis", pack(T, 3), a), "phone": Cell("+216", pack(T - 9, 0), b)}),
        Change("deliveries", "d1", {"city": Cell("Tunis", pack(T - 500, 0), a), "quantity": Cell(2, pack(T - 500, 0), a)}),
        Change("families", "f2", {"city": Cell("Tunis", pack(T, 1), a), "phone": Cell(None, pack(T, 1), a)}),
    ]
    batch = encode_batch(changes)
    assert list(batch) == ["nodes", "groups"]
    decoded = {(c.collection, c.id): c.cells for c in decode_batch(batch)}
    assert decoded == {(c.collection, c.id): c.cells for c in changes}


@pytest.fixture
def client(tmp_path):
    clock = {"now": T}
    made = Client("http://127.0.0.1:9", "fs1_" + "0" * 48, str(tmp_path / "unit.fieldsync"), city="Tunis",
                  device_clock=lambda: clock["now"])
    made.enrol(check=False)
    made.clock = clock
    yield made
    made.close()


def _acknowledge(client):
    with client.store.transaction():
        client.store.put("push_to", int(client.store.get("seq")))


def _repair(client, d):
    node = int(client.store.get("node"))
    with client.store.transaction():
        return repair(client.store, d, client.now(), node)


def test_repair_moves_only_what_the_wrong_clock_made_and_keeps_it_after_earlier_writes(client):
    family = client.add_family("TUN-1", "Acked")  # at T, acknowledged: never moves
    _acknowledge(client)
    client.clock["now"] = T + 2 * HOUR
    client.edit_family(family, phone="+216 1")  # pending, stamped 2 h ahead
    delivery = client.log_delivery(family, "food_pack")
    client.clock["now"] = T + 1000  # the clock is right again
    acked = client.stamps("families", family)["reference"][0]
    assert _repair(client, -2 * HOUR - 5_000) == (2, 1)  # two stamps; one time value (delivered_at)
    stamps = client.stamps("families", family)
    assert stamps["reference"][0] == acked
    assert stamps["phone"][0] == acked + 1, "rule 3: moved to just after the node's earlier write"
    assert client.stamps("deliveries", delivery)["item"][0] == acked + 2, "rule 2: order kept"
    assert client.record("deliveries", delivery)["delivered_at"] == T - 5_000, "rule 5: moved by d, no extra"
    assert int(client.store.get("hlc")) == acked + 2, "rule 4: the HLC came back"


def test_repair_with_a_clock_behind_moves_values_judged_on_themselves(client):
    client.clock["now"] = T - 365 * 24 * HOUR
    family = client.add_family("TUN-2", "Behind")
    delivery = client.log_delivery(family, "food_pack")
    client.clock["now"] = T  # corrected
    moved = _repair(client, 365 * 24 * HOUR)
    assert moved == (2, 1)
    assert abs(millis_of(client.stamps("families", family)["city"][0]) - T) < 1000
    assert abs(client.record("deliveries", delivery)["delivered_at"] - T) < 1000


def test_local_checks_name_the_field(client):
    with pytest.raises(RuleError) as error:
        client.log_delivery(client.add_family("TUN-3", "F"), "tent")
    assert error.value.field == "item"
    with pytest.raises(RuleError) as error:
        client.write("families", {"city": "Sfax", "reference": "S", "head_name": "S"})
    assert (error.value.field, error.value.code) == ("city", "out-of-scope")
    with pytest.raises(RuleError) as error:
        client.write("deliveries", {"family": "x", "item": "food_pack", "quantity": 0, "delivered_at": T,
                                    "volunteer": "v"})
    assert error.value.field == "quantity"
