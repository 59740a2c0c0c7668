#!/usr/bin/env python3
"""A page from the admin's report (`field report --json`): totals by city, breaches and duplicates with
their evidence, recharge codes, stock, devices whose clock is off. usage: demo-summary.py report.json"""
import json
import sys

report = json.load(open(sys.argv[1], encoding="utf-8"))


def table(header, rows):
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    for row in [header] + rows:
        print("  " + "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())


cities = {}
for total in report["totals"]:
    city = cities.setdefault(total["city"], {"deliveries": 0, "food_pack": 0, "connectivity_pack": 0,
                                             "internet_recharge": 0})
    city["deliveries"] += total["deliveries"]
    city[total["item"]] = city.get(total["item"], 0) + total["quantity"]
rows = [[name, c["deliveries"], c["food_pack"], c["connectivity_pack"], c["internet_recharge"]]
        for name, c in sorted(cities.items())]
rows.append(["all", *[sum(row[i] for row in rows) for i in range(1, 5)]])
print("\nDeliveries by city:")
table(["CITY", "DELIVERIES", "FOOD PACKS", "CONNECTIVITY", "RECHARGES"], rows)

print("\nServed beyond the rules (%d):" % len(report["breaches"]))
for breach in report["breaches"]:
    print("  %s %s, %s: %d of at most %d" % (breach["reference"], breach["item"], breach["campaign"],
                                              breach["received"], breach["max"]))
    for delivery in breach["evidence"]:
        print("    %s by %s (device %s)" % (delivery["delivered_at"], delivery["volunteer"], delivery["device"]))

print("\nFamilies likely registered twice (%d):" % len(report["duplicates"]))
for duplicate in report["duplicates"]:
    print("  %s: %s  (%s)" % (duplicate["city"], " / ".join(
        "%s %s" % (family["reference"], family["head_name"]) for family in duplicate["families"]), duplicate["reason"]))

vouchers = report.get("vouchers", {}).get("cities", [])
print("\nRecharge codes: %d handed out, %d unused (%d back in central's pool), %d refused hand-outs" % (
    sum(c["handed_out"] for c in vouchers), sum(c["unused"] for c in vouchers),
    sum(c["central"] for c in vouchers), len(report.get("vouchers", {}).get("refused_hand_outs", []))))

overdrawn = [level for level in report.get("stock", []) if level["overdrawn"]]
print("\nStock: %d hub items tracked; handed out more than received: %s" % (
    len(report.get("stock", [])), ", ".join("%s %s (%d received, %d handed out)" % (
        level["city"], level["item"], level["received"], level["handed_out"]) for level in overdrawn) or "none"))

devices = report["devices"]
print("\nDevices: %d synced; clock off: %s; stale: %d" % (
    len([d for d in devices if d["role"] == "device"]),
    ", ".join("%s (%+d h)" % (d["name"], round(d["clock_offset_ms"] / 3_600_000)) for d in devices if d["clock_off"])
    or "none", len([d for d in devices if d["stale"]])))
print("Conflicts kept: %d; records refused: %d" % (len(report["conflicts"]), len(report["refused"])))
