"""The FieldSync schema and the domain rules, as the documents give them.

Collections, kinds, required fields, scope and time fields: `docs/openapi.yaml`, schema `Group`, plus
`items` and `campaigns` (admin profiles without scope: docs/decisions/0011 and docs/protocol.md "Domain
rules a server checks"). The rules are the ones the server enforces (protocol.md, that section): this
client checks them before it writes, so that a volunteer hears of a mistake at once rather than at the
next sync. `check_record` returns the first problem as a `RuleError` naming the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable

from .errors import RuleError


@dataclass(frozen=True)
class Collection:
    name: str
    fact: bool
    required: tuple[str, ...] = ()
    scope: str | None = None
    timestamps: tuple[str, ...] = ()
    integers: tuple[str, ...] = ()
    ranges: tuple[tuple[str, int, int], ...] = ()


SCHEMA: dict[str, Collection] = {
    c.name: c
    for c in [
        Collection("associations", False, ("name", "city"), "city"),
        Collection(
            "families", False, ("city", "reference", "head_name"), "city",
            integers=("household_size",), ranges=(("household_size", 1, 100),),
        ),
        Collection(
            "deliveries", True, ("city", "family", "item", "quantity", "delivered_at", "volunteer"), "city",
            timestamps=("delivered_at",), integers=("quantity", "delivered_at"), ranges=(("quantity", 1, 1000),),
        ),
        Collection(
            "delivery_voids", True, ("city", "delivery", "reason", "volunteer", "voided_at"), "city",
            timestamps=("voided_at",), integers=("voided_at",),
        ),
        Collection(
            "entitlements", False, ("item", "max_per_family"), integers=("max_per_family", "window_days"),
            ranges=(("max_per_family", 0, 1000), ("window_days", 1, 3650)),
        ),
        # items and campaigns are not in openapi.yaml's Group: required fields and ranges found by experiment
        # against the server (clients/python/GAPS.md).
        Collection("items", False, ("name_fr",), integers=("active",), ranges=(("active", 0, 1),)),
        Collection(
            "campaigns", False, ("name", "starts_at", "ends_at", "items"), integers=("phase", "starts_at", "ends_at"),
            ranges=(("phase", 1, 99),),
        ),
    ]
}

BUILT_IN_ITEMS = ("food_pack", "connectivity_pack", "internet_recharge")
CODE = re.compile(r"^[a-z0-9_-]+$")
MAX_TEXT_BYTES = 4096


def collection(name: str) -> Collection:
    """The collection's description; a collection this client does not know is a profile without scope."""
    return SCHEMA.get(name) or Collection(name, False)


def parse_campaign_items(text: str) -> dict[str, int | None]:
    """`food_pack:1, connectivity_pack` -> {"food_pack": 1, "connectivity_pack": None} (no count: no limit).
    Codes once each; a count is 0 to 1000."""
    items: dict[str, int | None] = {}
    for part in text.split(","):
        code, colon, count = part.strip().partition(":")
        if not CODE.match(code) or code in items or (colon and not (count.isdigit() and int(count) <= 1000)):
            raise RuleError(f"Cannot read the campaign's items {text!r} at {part.strip()!r}.", "items")
        items[code] = int(count) if colon else None
    return items


# A Lookup reads the live replica: lookup(collection, id) -> {field: value} or None, and
# lookup_all(collection) -> [(id, {field: value})].
Lookup = Callable[[str, str], "dict | None"]
LookupAll = Callable[[str], "Iterable[tuple[str, dict]]"]


def check_values(coll: Collection, values: dict, new: bool) -> None:
    """The schema's own checks: value kinds, text length, integers, required fields of a new record."""
    for name, value in values.items():
        if name == "id" or not name or len(name.encode()) > 64 or (name.startswith("_") and name != "_deleted"):
            raise RuleError(f"{name!r} is not a field name.", name)
        if isinstance(value, bool) or not (value is None or isinstance(value, (int, float, str))):
            raise RuleError(f"{name}: {value!r} is not a value (null, integer, real or text).", name)
        if isinstance(value, str) and len(value.encode()) > MAX_TEXT_BYTES:
            raise RuleError(f"{name}: a text is at most {MAX_TEXT_BYTES} bytes.", name)
        if name in coll.integers and value is not None and not isinstance(value, int):
            raise RuleError(f"{name} is an integer, not {value!r}.", name)
        for ranged, low, high in coll.ranges:
            if name == ranged and isinstance(value, int) and not low <= value <= high:
                raise RuleError(f"{name} is from {low} to {high}, not {value}.", name)
    if new:
        for name in coll.required:
            if values.get(name) is None:
                raise RuleError(f"A new {coll.name} record needs {name}.", name)


def check_record(
    collection_name: str, record_id: str, values: dict, changed: set[str], lookup: Lookup, lookup_all: LookupAll
) -> None:
    """Raise `RuleError` if the record breaks a domain rule. `values` are the record's values after the
    write, `changed` the fields it writes (a profile's rule on a field is checked when that field changes,
    as the server does)."""
    if collection_name == "deliveries":
        _check_delivery(values, lookup, lookup_all)
    elif collection_name == "families":
        if "merged_into" in changed and values.get("merged_into") == record_id:
            raise RuleError("A family cannot be merged into itself.", "merged_into")
        if "association" in changed:
            _check_association(values, lookup)
    elif collection_name == "campaigns":
        if not CODE.match(record_id):
            raise RuleError(f"A campaign's id is its code: lowercase letters, digits, '_' or '-' (got {record_id!r}).")
        starts, ends = values.get("starts_at"), values.get("ends_at")
        if isinstance(starts, int) and isinstance(ends, int) and ends < starts:
            raise RuleError("The campaign ends before it starts.", "ends_at")
        if "items" in changed and isinstance(values.get("items"), str):
            for code in parse_campaign_items(values["items"]):
                _check_item(code, "items", lookup, lookup_all)
    elif collection_name == "entitlements":
        if "item" in changed and isinstance(values.get("item"), str):
            _check_item(values["item"], "item", lookup, lookup_all)
        campaign = values.get("campaign")
        if "campaign" in changed and isinstance(campaign, str) and lookup("campaigns", campaign) is None and any(lookup_all("campaigns")):
            raise RuleError(f"There is no campaign {campaign!r}.", "campaign")
    elif collection_name == "items":
        if not CODE.match(record_id):
            raise RuleError(f"An item's id is its code: lowercase letters, digits, '_' or '-' (got {record_id!r}).")


def _check_item(code: str, field: str, lookup: Lookup, lookup_all: LookupAll) -> None:
    stored = lookup("items", code)
    if stored is not None:
        if stored.get("active") == 0:
            raise RuleError(f"Item {code!r} is no longer handed out (inactive in the catalogue).", field)
        return
    catalogue = [item_id for item_id, _ in lookup_all("items")]
    if not catalogue and code in BUILT_IN_ITEMS:
        return
    raise RuleError(f"{code!r} is not an item of the catalogue: {', '.join(catalogue or BUILT_IN_ITEMS)}.", field)


def _check_delivery(values: dict, lookup: Lookup, lookup_all: LookupAll) -> None:
    item = values.get("item")
    if not isinstance(item, str):
        return
    _check_item(item, "item", lookup, lookup_all)
    campaigns = list(lookup_all("campaigns"))
    if campaigns:
        at = values.get("delivered_at") if isinstance(values.get("delivered_at"), int) else 0
        code = values.get("campaign")
        if not isinstance(code, str):
            raise RuleError("A delivery names its campaign (campaigns are set up).", "campaign")
        stored = lookup("campaigns", code)
        if stored is None:
            raise RuleError(f"There is no campaign {code!r}.", "campaign")
        starts, ends = stored.get("starts_at"), stored.get("ends_at")
        if not (isinstance(starts, int) and isinstance(ends, int) and starts <= at <= ends):
            raise RuleError(f"Campaign {code!r} is not open on that day.", "campaign")
        if item not in parse_campaign_items(str(stored.get("items") or "")):
            raise RuleError(f"Campaign {code!r} does not give {item}.", "item")
    _check_association(values, lookup)


def _check_association(values: dict, lookup: Lookup) -> None:
    association = values.get("association")
    if not isinstance(association, str):
        return
    stored = lookup("associations", association)
    if stored is None:
        raise RuleError(f"There is no association {association!r} here.", "association")
    if stored.get("city") != values.get("city"):
        raise RuleError(
            f"Association {stored.get('name') or association!r} works in {stored.get('city')}, "
            f"not in {values.get('city')}.",
            "association",
            "bad-reference",
        )
