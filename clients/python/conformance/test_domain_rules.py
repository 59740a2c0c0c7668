"""Each domain rule a server checks (docs/protocol.md, "Domain rules a server checks"), broken on purpose:
the Python client writes the record raw (`check=False`, past its own checks) beside a valid one and syncs;
the server refuses that record alone, naming it, its field and the code; the client sets it aside.
The same write with the client's checks on is refused before it is stored, naming the same field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pytest

from harness import observe, real_now, values

from fieldsync import Client, RuleError

DAY = 86_400_000


def catalogue(admin: Client) -> None:
    for code, active in (("food_pack", 1), ("connectivity_pack", 1), ("internet_recharge", 1), ("tent", 0)):
        admin.write("items", {"name_fr": code, "active": active}, record_id=code)


def campaigns(admin: Client) -> None:
    now = real_now()
    admin.write("campaigns", {"name": "Phase 1", "phase": 1, "starts_at": now - DAY, "ends_at": now + DAY,
                              "items": "food_pack:1"}, record_id="phase-1")
    admin.write("campaigns", {"name": "Phase 0", "phase": 2, "starts_at": now - 400 * DAY,
                              "ends_at": now - 300 * DAY, "items": "food_pack:1"}, record_id="phase-0")


def associations(admin: Client) -> None:
    admin.write("associations", {"name": "Amal Tunis", "city": "Tunis"}, record_id="amal-tun")
    admin.write("associations", {"name": "Amal Sfax", "city": "Sfax"}, record_id="amal-sfax")


def sfax_family(admin: Client) -> None:
    admin.write("families", {"city": "Sfax", "reference": "SFX-1", "head_name": "Sfax Family"}, record_id="sfx-1")


def delivery(**changes) -> dict:
    values = {"family": "fam-ok", "item": "food_pack", "quantity": 1, "volunteer": "amina", "campaign": "phase-1"}
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


@dataclass
class Case:
    name: str
    setup: tuple[Callable[[Client], None], ...]
    collection: str
    values: dict
    field: str | None
    code: str = "invalid-value"
    record_id: str = "bad-1"
    by_admin: bool = False
    checked_locally: bool = True


CASES = [
    Case("delivery-item-not-in-catalogue", (), "deliveries", delivery(item="tent", campaign=None), "item"),
    Case("delivery-item-inactive", (catalogue,), "deliveries", delivery(item="tent", campaign=None), "item"),
    Case("delivery-quantity-out-of-range", (), "deliveries", delivery(quantity=0, campaign=None), "quantity"),
    Case("family-household-size-out-of-range", (), "families",
         {"reference": "TUN-B0", "head_name": "B", "household_size": 0}, "household_size"),
    Case("family-required-field-missing", (), "families", {"reference": "TUN-B9"}, "head_name"),
    Case("delivery-without-campaign", (campaigns,), "deliveries", delivery(campaign=None), "campaign"),
    Case("delivery-unknown-campaign", (campaigns,), "deliveries", delivery(campaign="phase-9"), "campaign"),
    Case("delivery-campaign-not-open", (campaigns,), "deliveries", delivery(campaign="phase-0"), "campaign"),
    Case("delivery-campaign-does-not-give-item", (campaigns,), "deliveries",
         delivery(item="connectivity_pack"), "item"),
    Case("delivery-association-of-another-city", (associations,), "deliveries",
         delivery(campaign=None, association="amal-sfax"), "association", code="bad-reference"),
    Case("family-association-of-another-city", (associations,), "families",
         {"reference": "TUN-B1", "head_name": "B", "association": "amal-sfax"}, "association", code="bad-reference"),
    Case("family-association-unknown", (associations,), "families",
         {"reference": "TUN-B2", "head_name": "B", "association": "nobody"}, "association"),
    Case("family-merged-into-itself", (), "families",
         {"reference": "TUN-B3", "head_name": "B", "merged_into": "bad-1"}, "merged_into"),
    Case("campaign-id-not-a-code", (), "campaigns",
         {"name": "P", "starts_at": 0, "ends_at": 1, "items": "food_pack"}, None, record_id="Phase1",
         by_admin=True),
    Case("campaign-ends-before-it-starts", (), "campaigns",
         {"name": "P", "starts_at": 10 * DAY, "ends_at": DAY, "items": "food_pack"}, "ends_at",
         record_id="phase-x", by_admin=True),
    Case("campaign-item-not-in-catalogue", (), "campaigns",
         {"name": "P", "starts_at": 0, "ends_at": DAY, "items": "banana:1"}, "items", record_id="phase-y",
         by_admin=True),
    Case("entitlement-item-not-in-catalogue", (), "entitlements", {"item": "banana", "max_per_family": 1}, "item",
         by_admin=True),
    Case("entitlement-unknown-campaign", (campaigns,), "entitlements",
         {"item": "food_pack", "campaign": "phase-9", "max_per_family": 1}, "campaign", by_admin=True),
    Case("item-id-not-a-code", (), "items", {"name_fr": "Tente"}, None, record_id="Tent!", by_admin=True),
    # Scope (section 14): not domain rules, but refusals of one record all the same.
    Case("family-of-another-city", (), "families", {"city": "Sfax", "reference": "S", "head_name": "S"}, "city",
         code="out-of-scope"),
    Case("delivery-of-another-citys-family", (sfax_family,), "deliveries", delivery(campaign=None, family="sfx-1"),
         "family", code="bad-reference", checked_locally=False),
]


@pytest.fixture
def clients(server, tmp_path):
    made = {}
    for role, token in (("admin", "admin"), ("device", "dev-a")):
        client = Client(server.url, server.token(token), str(tmp_path / f"{role}.fieldsync"), device_clock=real_now,
                        retry_base=0.1)
        client.enrol()
        made[role] = client
    yield made
    for client in made.values():
        client.close()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_record_breaking_a_rule_is_refused_alone(server, clients, case):
    admin, device = clients["admin"], clients["device"]
    for setup in case.setup:
        setup(admin)
    assert admin.sync().refused == []
    writer = admin if case.by_admin else device
    assert writer.sync().refused == []
    values = dict(case.values)
    if case.collection == "deliveries":
        values["delivered_at"] = writer.now()
    companion = writer.write("families", {"city": "Tunis", "reference": "TUN-OK", "head_name": "Valid"},
                             record_id="fam-ok")

    if case.checked_locally:
        with pytest.raises(RuleError) as refused_here:
            writer.write(case.collection, values, record_id=case.record_id)
        assert refused_here.value.field == case.field  # (a device does not hold another city's records:
        # it cannot tell a bad reference from a missing one, so its code may be invalid-value)
    writer.write(case.collection, values, record_id=case.record_id, check=False)
    summary = writer.sync()

    assert [(r["collection"], r["id"], r["code"], r.get("field")) for r in summary.refused] == [
        (case.collection, case.record_id, case.code, case.field)
    ], summary.refused
    seen = observe(server)
    assert case.record_id not in seen.get(case.collection, {})
    assert companion in seen["families"]
    assert writer.record(case.collection, case.record_id) is None
    assert [(a["id"], a["field"]) for a in writer.set_aside()] == [(case.record_id, case.field)]


def test_a_refused_change_of_a_record_the_server_holds_stays(server, clients):
    """Section 14, `stays`: a change the server refuses of a record it holds in the sender's city is
    refused whole (every field of it), the record stays on both sides, the change is kept aside."""
    device = clients["device"]
    family = device.add_family("TUN-S1", "Stays Family", phone="+216 20 000 001")
    assert device.sync().refused == []
    device.write("families", {"household_size": 0, "phone": "+216 20 000 002"}, record_id=family, check=False)
    summary = device.sync()

    assert [(r["id"], r["field"], r.get("stays")) for r in summary.refused] == [(family, "household_size", True)]
    assert values(observe(server)["families"][family])["phone"] == "+216 20 000 001"
    assert device.record("families", family) is not None, "the record stays"
    aside = device.set_aside()
    assert [(a["id"], a["stays"], sorted(a["record"])) for a in aside] == [(family, True, ["household_size", "phone"])]
    assert device.sync().pushed == 0, "the refused change is not sent again"


def test_a_campaign_is_open_from_its_start_to_its_end_both_included(server, clients):
    """Section 20, rule 5: `starts_at <= delivered_at <= ends_at`."""
    admin, device = clients["admin"], clients["device"]
    now = real_now()
    admin.write("campaigns", {"name": "Short", "phase": 1, "starts_at": now - 1000, "ends_at": now + 1000,
                              "items": "food_pack"}, record_id="short")
    admin.sync()
    device.sync()
    family = device.add_family("TUN-C1", "Campaign Family")
    for record_id, at in (("at-start", now - 1000), ("at-end", now + 1000), ("before", now - 1001),
                          ("after", now + 1001)):
        device.write("deliveries", {"family": family, "item": "food_pack", "quantity": 1, "delivered_at": at,
                                    "volunteer": "v", "campaign": "short"}, record_id=record_id, check=False)
    refused = {(r["id"], r["field"]) for r in device.sync().refused}
    assert refused == {("before", "campaign"), ("after", "campaign")}
    assert {"at-start", "at-end"} <= set(observe(server)["deliveries"])
