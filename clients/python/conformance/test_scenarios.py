"""The conformance scenarios, each run against the Swift `field` binary and the Python client.

Each test's docstring names the rule of docs/protocol.md it backs; the document names the test back.
"""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from checks import check_leases, exchanges_of, lease_pair, problems, pushed_ids
from harness import DRIVERS, FIELD_BIN, HOUR_MS, YEAR_MS, Server, backup, observe, real_now, restore, values
from proxy import Fault, pushes

NEAR_MS = 120_000  # "now", give or take, for stamps and time values after a repair


def millis(hlc: int) -> int:
    return hlc >> 16


def sync_ok(driver, attempts: int = 3) -> list[dict]:
    """Sync until one succeeds (a cut may end a sync; the next one resumes). Returns every result."""
    results = []
    for _ in range(attempts):
        results.append(driver.sync())
        if results[-1]["ok"]:
            return results
    raise AssertionError(f"{driver.kind}: no sync succeeded: {results}")


def assert_nothing_pending(server, device) -> None:
    """The client has no change of its own left to send: its next sync pushes nothing. (Not `field
    status`'s `pending`: the Swift client counts pulled changes there, protocol.md section 19.)"""
    start = len(server.proxy.log)
    assert device.sync()["ok"]
    assert not [e for e in server.proxy.log[start:] if e.path == "/v1/sync" and pushes(e.request)]
    if device.kind == "python":
        assert device.status()["pending"] == 0


@pytest.fixture(autouse=True)
def leases_follow_the_rules(server):
    yield
    check_leases(server.proxy.log, server.proxy.sync_starts)


def test_first_sync(server, make):
    """Sections 2, 6, 9: enrol, push the first records, pull the city's, an idle sync is one round trip."""
    peer = make("dev-b", "peer", of="python")
    peer.enrol()
    peer_family = peer.add_family("TUN-900", "Peer Family")
    assert peer.sync()["ok"]

    device = make()
    device.enrol()
    family = device.add_family("TUN-001", "Fatma Ben Ali", phone="+216 98 123 456")
    delivery = device.deliver(family, "food_pack", campaign="2026-winter")
    assert device.sync()["ok"]
    node = device.status()["node"]

    seen = observe(server)
    assert values(seen["families"][family]) | {"city": "Tunis"} == values(seen["families"][family])
    assert values(seen["families"][family])["reference"] == "TUN-001"
    assert values(seen["deliveries"][delivery])["family"] == family
    assert {cell[2] for cell in seen["families"][family].values()} == {node}
    assert peer_family in device.families()
    first = exchanges_of(server.proxy.log, {node})[0]
    assert "heartbeat" in first.request and first.request["lease"]["previous"] is None

    before = len(server.proxy.syncs())
    assert_nothing_pending(server, device)
    assert len(server.proxy.syncs()) - before == 1, "an idle sync is one round trip"


def test_paging(server, make):
    """Section 9: a push of more records than a page goes page by page, only the last one pulls; a pull
    of more records than a page goes on while `more` is true."""
    peer = make("dev-b", "peer", of="python")
    peer.enrol()
    peer.batch_size = 5000
    theirs = {peer.add_family(f"TUN-P{i:04}", f"Peer {i}") for i in range(1100)}
    assert peer.sync()["ok"]

    device = make()
    device.batch_size = 20
    device.enrol()
    mine = {device.add_family(f"TUN-{i:03}", f"Head {i}") for i in range(45)}
    assert device.sync()["ok"]
    node = device.status()["node"]

    sent = exchanges_of(server.proxy.log, {node})
    with_push = [e for e in sent if pushes(e.request) and e.status == 200]
    assert len(with_push) >= 3
    assert all(len(pushed_ids(e)) <= 20 for e in with_push)
    assert all("pull" not in e.request for e in with_push[:-1]) and "pull" in with_push[-1].request, (
        "only the last page of a push pulls"
    )
    pulled = [e for e in sent if "pull" in e.request and e.status == 200]
    assert any(e.answer["pull"]["more"] for e in pulled), "the pull came in several pages"
    assert not pulled[-1].answer["pull"]["more"]

    seen = observe(server)
    assert mine <= set(seen["families"])
    assert theirs | mine <= set(device.families())
    assert_nothing_pending(server, device)


@pytest.mark.parametrize("where", ["request", "headers", "answer"])
def test_cut(server, make, where):
    """Section 12: a request cut while sent, while its answer's headers come, or during its body counts as
    no answer; the client sends the same lease pair again (the same request, or the pair alone in the next
    sync) and nothing is lost or applied twice."""
    device = make()
    device.enrol()
    assert device.sync()["ok"]
    family = device.add_family("TUN-010", "Cut Family")
    delivery = device.deliver(family, "food_pack")
    node = device.status()["node"]
    fault = server.proxy.arm(Fault(where, pushes, at=0.5 if where != "headers" else 12))
    results = sync_ok(device)
    assert fault.fired

    sent = exchanges_of(server.proxy.log, {node})
    cut = next(i for i, e in enumerate(sent) if e.fault)
    assert lease_pair(sent[cut + 1]) == lease_pair(sent[cut]), "the pair of a cut request is sent again"
    assert not problems(server.proxy.log, "duplicate-node")
    resent = [e for e in sent[cut + 1 :] if pushes(e.request)]
    if where != "request":  # the server applied the first copy: the second changes nothing
        assert resent and all(e.answer["push"]["conflicts"] == 0 for e in resent)
    seen = observe(server)
    assert values(seen["families"][family])["reference"] == "TUN-010"
    assert values(seen["deliveries"][delivery])["family"] == family
    assert_nothing_pending(server, device)
    assert len(results) >= 1

    again = device.add_family("TUN-011", "After The Cut")
    assert device.sync()["ok"]
    assert again in observe(server)["families"]


def test_replay(server, make):
    """Sections 11 and 18: the same request sent again, at once or after the client moved on, is
    answered 200 and changes nothing (the lease pair is a move already made; the push is idempotent)."""
    device = make()
    device.enrol()
    family = device.add_family("TUN-020", "Replay Family")
    device.deliver(family, "food_pack")
    assert device.sync()["ok"]
    node = device.status()["node"]
    original = next(e for e in exchanges_of(server.proxy.log, {node}) if pushes(e.request))
    before = observe(server)

    status, answer = server.proxy.replay(original)
    assert status == 200, answer
    assert answer["push"]["records"] == len(pushed_ids(original))
    assert answer["push"]["conflicts"] == 0
    assert observe(server) == before

    later = device.add_family("TUN-021", "Later Family")
    assert device.sync()["ok"]
    status, answer = server.proxy.replay(original)  # a late copy: the lease has moved on since
    assert status == 200, answer
    after = observe(server)
    assert after["families"][family] == before["families"][family]
    assert later in after["families"]
    device.add_family("TUN-022", "After The Replays")
    assert device.sync()["ok"], "the replays did not disturb the client's lease"
    assert not problems(server.proxy.log, "duplicate-node")


def _stamps_and_times_near_now(seen: dict, family: str, delivery: str) -> None:
    now = real_now()
    for cell in [*seen["families"][family].values(), *seen["deliveries"][delivery].values()]:
        assert abs(millis(cell[1]) - now) < NEAR_MS, f"a stamp {millis(cell[1]) - now} ms from now"
    delivered_at = values(seen["deliveries"][delivery])["delivered_at"]
    assert abs(delivered_at - now) < NEAR_MS, f"delivered_at is {delivered_at - now} ms from now"


@pytest.mark.parametrize("offset,cause", [(2 * HOUR_MS, "clock-ahead"), (-YEAR_MS, "clock-behind")],
                         ids=["ahead", "behind"])
def test_wrong_clock(server, make, offset, cause):
    """Section 13: a device whose clock is 2 hours ahead (a year behind) is refused with `clock-drift`,
    corrects its clock by `offset_ms`, repairs its pending stamps and the time values in its facts, and
    its HLC comes back: its next write is stamped at the right time."""
    device = make()
    device.clock_offset_ms = offset
    device.enrol()
    family = device.add_family("TUN-030", "Clock Family")
    delivery = device.deliver(family, "food_pack")
    sync_ok(device)

    drifts = problems(server.proxy.log, "clock-drift")
    assert [p.get("cause") for p in drifts] == [cause]
    _stamps_and_times_near_now(observe(server), family, delivery)
    assert abs(device.status()["clock_correction_ms"] + offset) < 60_000

    later = device.add_family("TUN-031", "After The Repair")
    assert device.sync()["ok"]
    stamp = observe(server)["families"][later]["reference"][1]
    assert abs(millis(stamp) - real_now()) < NEAR_MS, "the HLC came back with the repair"


def test_old_stamps_under_a_right_clock(server, make):
    """Section 13, `stamps-ahead`: writes made while the clock was 2 hours ahead, synced once it is right
    again: the stamps and time values are repaired, the clock correction is left alone."""
    device = make()
    device.enrol()
    assert device.sync()["ok"]
    device.clock_offset_ms = 2 * HOUR_MS
    family = device.add_family("TUN-040", "Ahead Family")
    delivery = device.deliver(family, "food_pack")
    device.clock_offset_ms = 0
    sync_ok(device)

    assert [p.get("cause") for p in problems(server.proxy.log, "clock-drift")] == ["stamps-ahead"]
    _stamps_and_times_near_now(observe(server), family, delivery)
    assert abs(device.status()["clock_correction_ms"]) < 60_000, "stamps-ahead leaves the clock alone"


def test_restored_backup(server, make, tmp_path):
    """Sections 11 and 15: the client's store copied back to an older state holds an old lease: the server
    answers `duplicate-node`, the client takes a new node id and syncs again, losing nothing."""
    device = make()
    device.enrol()
    first = device.add_family("TUN-050", "Before The Backup")
    assert device.sync()["ok"]
    old_node = device.status()["node"]
    backup(device, tmp_path / "backup")
    second = device.add_family("TUN-051", "After The Backup")
    assert device.sync()["ok"]
    restore(device, tmp_path / "backup")
    third = device.add_family("TUN-052", "After The Restore")
    sync_ok(device)

    assert problems(server.proxy.log, "duplicate-node")
    new_node = device.status()["node"]
    assert new_node != old_node
    later = exchanges_of(server.proxy.log, {new_node})
    assert later and all(e.request.get("rekeyed_from") == old_node for e in later)
    assert later[0].request["lease"]["previous"] is None
    seen = observe(server)
    assert {first, second, third} <= set(seen["families"])
    assert {first, second, third} <= set(device.families()), "the writes made after the backup came back"
    assert {c[2] for c in seen["families"][third].values()} == {new_node}


def test_refused_own_record(server, make, admin):
    """Section 14: a record of the client's push that the server refuses (a delivery without a campaign,
    logged before the admin set up the first campaign) is set aside, never sent again; the rest applies."""
    device = make()
    device.enrol()
    family = device.add_family("TUN-060", "Refused Family")
    assert device.sync()["ok"]
    delivery = device.deliver(family, "food_pack")
    kept = device.add_family("TUN-061", "Kept Family")
    now = real_now()
    admin.write("campaigns", {"name": "Phase 1", "phase": 1, "starts_at": now - 86_400_000,
                              "ends_at": now + 86_400_000, "items": "food_pack:1"}, record_id="phase-1")
    admin.sync()
    assert device.sync()["ok"]

    seen = observe(server)
    assert delivery not in seen.get("deliveries", {})
    assert kept in seen["families"]
    refused = [r for r in device.status()["refused"] if r["id"] == delivery]
    assert refused and refused[0]["field"] == "campaign" and refused[0]["code"] == "invalid-value", refused
    assert delivery not in device.deliveries()
    assert family in device.families()
    node = device.status()["node"]
    assert_nothing_pending(server, device)
    sent_after = [e for e in exchanges_of(server.proxy.log, {node}) if delivery in pushed_ids(e)]
    assert len(sent_after) == 1, "a refused record is never sent again"


def test_refused_upstream(server, admin, kind, tmp_path):
    """Section 14, `pull.refused`: a hub accepts a delivery, central refuses it (the admin closed its
    campaign meanwhile); the hub passes the refusal back and the device sets the delivery aside."""
    now = real_now()
    admin.write("campaigns", {"name": "Phase 1", "phase": 1, "starts_at": now - 86_400_000,
                              "ends_at": now + 86_400_000, "items": "food_pack"}, record_id="phase-1")
    admin.sync()
    hub = Server(tmp_path / "hub", {"dev-a": ("device", "Tunis")}, upstream=(server.url, server.tokens["hub-tunis"]))
    try:
        hub.sync_upstream()
        device = DRIVERS[kind](hub, "dev-a", tmp_path, "device")
        device.enrol()
        assert device.sync()["ok"]
        family = device.add_family("TUN-075", "Upstream Family")
        delivery = device.deliver(family, "food_pack", campaign="phase-1")
        assert device.sync()["ok"]
        admin.write("campaigns", {"ends_at": now - 3_600_000}, record_id="phase-1")
        admin.sync()
        hub.sync_upstream()
        assert device.sync()["ok"]

        refused = [r for r in device.status()["refused"] if r["id"] == delivery]
        assert refused and refused[0]["field"] == "campaign", device.status()["refused"]
        assert delivery not in device.deliveries() and family in device.families()
        assert delivery not in observe(server).get("deliveries", {})
        pulled = [e for e in hub.proxy.syncs() if e.status == 200 and (e.answer or {}).get("pull", {}).get("refused")]
        assert pulled and pulled[0].answer["pull"]["left"] == {"deliveries": [delivery]}
        device.close()
        check_leases(hub.proxy.log, hub.proxy.sync_starts)
    finally:
        hub.stop()


def test_scope_move(server, make, admin):
    """Section 14, `pull.left`: the admin moves two families to another city: the device deletes its copy
    of one, and sets aside the other, which held a change of its own not yet acknowledged."""
    device = make()
    device.enrol()
    moved = device.add_family("TUN-070", "Moving Family")
    edited = device.add_family("TUN-071", "Edited Family")
    assert device.sync()["ok"]
    admin.sync()
    device.edit_family(edited, phone="+216 20 000 071")
    admin.write("families", {"city": "Sfax"}, record_id=moved)
    admin.write("families", {"city": "Sfax"}, record_id=edited)
    admin.sync()
    assert device.sync()["ok"]

    families = device.families()
    assert moved not in families and edited not in families
    refused = {r["id"]: r for r in device.status()["refused"]}
    assert edited in refused and refused[edited]["code"] == "out-of-scope", refused
    seen = observe(server)
    assert values(seen["families"][moved])["city"] == "Sfax"
    assert values(seen["families"][edited]).get("phone") != "+216 20 000 071"
    sfax = make("dev-sfax", "sfax", of="python")
    sfax.enrol()
    assert sfax.sync()["ok"]
    assert {moved, edited} <= set(sfax.families())


def test_heartbeat_backlog(server, make, kind):
    """Section 16: `heartbeat.backlog` counts the client's own records the server will still lack once it
    has applied the request's push, each record once however many writes; changes it pulled never count.
    (45 records, pages of 20: the first request pushes 20 and reports 25.)"""
    peer = make("dev-b", "peer", of="python")
    peer.enrol()
    for i in range(3):
        peer.add_family(f"TUN-H{i}", f"Pulled {i}")
    assert peer.sync()["ok"]
    device = make()
    device.batch_size = 20
    device.enrol()
    assert device.sync()["ok"]
    family = device.add_family("TUN-080", "Backlog Family")
    device.edit_family(family, phone="+216 20 000 080")
    device.deliver(family, "food_pack")
    for i in range(43):
        device.add_family(f"TUN-08{i:02}", f"Backlog {i}")
    start = len(server.proxy.log)
    assert device.sync()["ok"]
    heartbeat = exchanges_of(server.proxy.log[start:], {device.status()["node"]})[0].request["heartbeat"]
    assert heartbeat["backlog"] == 25


def test_a_pulled_stamp_too_far_ahead_is_refused(server, make):
    """Sections 4 and 10: a pulled page holding a stamp of the server's own node more than 5 minutes
    ahead of the client's clock (one its clock never saw) is not applied: the sync ends with an error,
    nothing is saved, and the next sync pulls from the same cursor. (The record is written into the
    server's replica by `field` with a clock 10 minutes ahead, as an operator with a wrong clock would.)"""
    device = make()
    device.enrol()
    assert device.sync()["ok"]
    subprocess.run(
        [str(FIELD_BIN), "admin", "association", "add", "--db", str(server.db), "--city", "Tunis", "--name", "Ahead",
         "--id", "ahead-tun"],
        check=True, capture_output=True, env=dict(os.environ, FIELDSYNC_CLOCK_OFFSET_MS=str(10 * 60_000)),
    )
    node = device.status()["node"]
    start = len(server.proxy.log)
    assert not device.sync()["ok"]
    assert not device.sync()["ok"]
    pulls = [e for e in exchanges_of(server.proxy.log[start:], {node}) if "pull" in e.request and e.status == 200]
    assert len(pulls) >= 2 and all(e.answer["pull"]["batch"]["groups"] for e in pulls)
    assert len({e.request["pull"]["cursor"] for e in pulls}) == 1, "nothing was saved: the same cursor again"


@pytest.mark.parametrize("offset,corrected", [(1_500, False), (4_000, True)], ids=["1.5s", "4s"])
def test_clock_exchange(server, make, offset, corrected):
    """Section 13, the exchange: a clock off by more than 2 seconds (and more than half the round trip) is
    corrected from the answers' `clock`; one off by less is left alone."""
    device = make()
    device.clock_offset_ms = offset
    device.enrol()
    assert device.sync()["ok"]
    correction = device.status()["clock_correction_ms"]
    if corrected:
        assert abs(correction + offset) < 1_000, correction
    else:
        assert correction == 0


def test_heartbeat_oldest_pending(server, make, kind):
    """Section 16: `oldest_pending_ms` is the age of the oldest of the records the backlog counts, facts and
    profiles alike (pages of one record: the first request pushes family 1 and leaves family 2, written
    1.5 s before the delivery)."""
    device = make()
    device.batch_size = 1
    device.enrol()
    assert device.sync()["ok"]
    first = device.add_family("TUN-090", "Oldest Family")
    device.add_family("TUN-091", "Second Family")
    time.sleep(1.5)
    device.deliver(first, "food_pack")
    start = len(server.proxy.log)
    assert device.sync()["ok"]
    heartbeat = exchanges_of(server.proxy.log[start:], {device.status()["node"]})[0].request["heartbeat"]
    age = heartbeat["oldest_pending_ms"]
    assert 1_500 <= age < 60_000
