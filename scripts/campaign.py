#!/usr/bin/env python3
"""The demo campaign's files, from a seed: what the associations hand the admin, what the volunteers
write on their sheets, and what the report must then say (expected.json).

8 cities, 2 associations and 3 volunteers each; 1,000 families in phase 1 and 1,000 more in phase 2
(125 per city and phase, names in Latin or Arabic script); 5,200 recharge codes; each family served by
one volunteer of its city, a day's work per sheet. Planted: a connectivity pack given twice to one family
by two volunteers offline on the same day (Casablanca); two families each registered twice on the same
day by two volunteers, once in Arabic script and once in Latin (Fès, Marrakech); a hub that records
fewer food packs than its city hands out (Tanger). The demo script plays the files; DemoTests compares
the report with expected.json.

usage: campaign.py OUT_DIR [--seed N]
"""
import csv
import datetime
import json
import os
import random
import sys

CITIES = [
    ("Casablanca", "CAS"), ("Rabat", "RAB"), ("Marrakech", "MAR"), ("Fès", "FES"),
    ("Tanger", "TNG"), ("Agadir", "AGA"), ("Oujda", "OUJ"), ("Meknès", "MEK"),
]
FAMILIES_PER_CITY_AND_PHASE = 125
VOLUNTEERS_PER_CITY = 3
CODES = 5200
CODES_PER_CITY = 650
CODES_PER_DEVICE = 216

# Given names and family names, each in Latin and Arabic script (the same person either way).
GIVEN = [
    ("Fatima", "فاطمة"), ("Khadija", "خديجة"), ("Aicha", "عائشة"), ("Zineb", "زينب"), ("Naima", "نعيمة"),
    ("Malika", "مليكة"), ("Samira", "سميرة"), ("Latifa", "لطيفة"), ("Hafsa", "حفصة"), ("Meryem", "مريم"),
    ("Mohamed", "محمد"), ("Ahmed", "أحمد"), ("Youssef", "يوسف"), ("Abdellah", "عبد الله"),
    ("Hassan", "حسن"), ("Omar", "عمر"), ("Rachid", "رشيد"), ("Mustapha", "مصطفى"), ("Karim", "كريم"),
    ("Said", "سعيد"), ("Driss", "إدريس"), ("Hamza", "حمزة"), ("Nadia", "نادية"), ("Souad", "سعاد"),
    ("Rkia", "رقية"), ("Hanane", "حنان"), ("Imane", "إيمان"), ("Jamal", "جمال"), ("Brahim", "إبراهيم"),
    ("Larbi", "العربي"),
]
FAMILY = [
    ("Bennani", "بناني"), ("El Idrissi", "الإدريسي"), ("Alaoui", "العلوي"), ("Tazi", "التازي"),
    ("Berrada", "برادة"), ("El Fassi", "الفاسي"), ("Chraibi", "الشرايبي"), ("Amrani", "العمراني"),
    ("Ouazzani", "الوزاني"), ("Benjelloun", "بنجلون"), ("Lahlou", "لحلو"), ("Sqalli", "السقلي"),
    ("Ghazouani", "الغزواني"), ("Bouzidi", "البوزيدي"), ("Haddad", "الحداد"), ("Naciri", "الناصري"),
    ("Zerouali", "الزروالي"), ("Ait Ali", "آيت علي"), ("Ouali", "الوالي"), ("Boukili", "البوكيلي"),
    ("Rifai", "الرفاعي"), ("Kettani", "الكتاني"), ("Sebti", "السبتي"), ("Mansouri", "المنصوري"),
    ("Tahiri", "الطاهري"), ("Ziani", "الزياني"), ("Belkadi", "بلقاضي"), ("Cherkaoui", "الشرقاوي"),
    ("Filali", "الفيلالي"), ("Jabri", "الجابري"), ("Ouahbi", "الوهبي"), ("Saidi", "السعيدي"),
    ("Hamdaoui", "الحمداوي"), ("Lamrani", "اللمراني"), ("Karimi", "الكريمي"), ("Moussaoui", "الموساوي"),
]
DISTRICTS = ["Médina", "Hay Mohammadi", "Sidi Moumen", "Hay Hassani", "Ain Sebaa", "Al Qods", "Bensouda"]


def phone(rng, used):
    while True:
        number = "06 %02d %02d %02d %02d" % tuple(rng.randrange(100) for _ in range(4))
        if number not in used:
            used.add(number)
            return number


def write(path, header, rows, delimiter=","):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main():
    out = sys.argv[1]
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 1
    rng = random.Random(seed)
    os.makedirs(os.path.join(out, "sheets"), exist_ok=True)
    phones = set()
    expected = {"totals": {}, "families": 0, "codes": CODES, "breaches": [], "duplicates": [], "overdrawn": []}

    def count(city, item, campaign, quantity=1):
        key = "%s|%s|%s" % (city, item, campaign)
        expected["totals"][key] = expected["totals"].get(key, 0) + quantity

    # The names of the families planted as registered twice: no imported family of their city bears them.
    planted_names = {"Fès": (11, 9), "Marrakech": (4, 15)}
    associations, volunteers, families = [], {}, {1: [], 2: []}
    names = {city: {pair} for city, pair in planted_names.items()}
    for city, code in CITIES:
        lower = code.lower()
        associations += [("amal-%s" % lower, "Association Amal %s" % city, city),
                         ("nour-%s" % lower, "Association Nour %s" % city, city)]
        volunteers[city] = []
        for index in range(VOLUNTEERS_PER_CITY):
            given = GIVEN[rng.randrange(len(GIVEN))][0]
            name = "%s-%s-%d" % (given.lower(), lower, index + 1)
            volunteers[city].append((name, "amal-%s" % lower if index % 2 == 0 else "nour-%s" % lower))
        for phase in (1, 2):
            for index in range(FAMILIES_PER_CITY_AND_PHASE):
                number = (phase - 1) * FAMILIES_PER_CITY_AND_PHASE + index + 1
                # Two families of a city never share a head's name (in either script): those the demo
                # registers twice are planted below, and the report must find those.
                while True:
                    given, family = rng.randrange(len(GIVEN)), rng.randrange(len(FAMILY))
                    if (given, family) not in names.setdefault(city, set()):
                        names[city].add((given, family))
                        break
                given, family = GIVEN[given], FAMILY[family]
                arabic = rng.random() < 0.4
                head = ("%s %s" % (given[1], family[1])) if arabic else ("%s %s" % (given[0], family[0]))
                families[phase].append({
                    "city": city, "association": "amal-%s" % lower if number % 2 else "nour-%s" % lower,
                    "reference": "%s-%04d" % (code, number), "head_name": head, "phone": phone(rng, phones),
                    "household_size": rng.randint(1, 9), "district": rng.choice(DISTRICTS),
                    "device": number % VOLUNTEERS_PER_CITY,
                })
    expected["families"] = len(families[1]) + len(families[2])

    write(os.path.join(out, "associations.csv"), ["id", "name", "city"], associations, ";")
    # Both campaigns are open on the day the demo runs (and the day after: a volunteer's clock is a day ahead).
    today = datetime.date.today()
    def day(offset):
        return (today + datetime.timedelta(days=offset)).isoformat()
    items = "food_pack:2,connectivity_pack:1,internet_recharge:2"
    write(os.path.join(out, "campaigns.csv"), ["code", "name", "phase", "from", "to", "items"], [
        ("phase-1", "Phase 1", 1, day(-30), day(90), items), ("phase-2", "Phase 2", 2, day(-5), day(180), items),
    ], ";")
    family_header = ["city", "association", "reference", "head_name", "phone", "household_size", "district"]
    for phase in (1, 2):
        write(os.path.join(out, "families-phase%d.csv" % phase), family_header,
              [[f[k] for k in family_header] for f in families[phase]], ";")
    codes = set()
    while len(codes) < CODES:
        codes.add("%04d-%04d-%04d" % (rng.randrange(10000), rng.randrange(10000), rng.randrange(10000)))
    write(os.path.join(out, "codes.csv"), ["code", "operator", "amount"],
          [(code, "Maroc Telecom" if index % 2 else "inwi", 20) for index, code in enumerate(sorted(codes))])
    for city, code in CITIES:
        write(os.path.join(out, "volunteers-%s.csv" % code.lower()), ["name", "city", "association", "phone"],
              [(name, city, association, phone(rng, phones)) for name, association in volunteers[city]], ";")

    # The days: each volunteer's sheet per day. Phase 1 (days 1-3): the phase-1 families' first food pack and
    # connectivity pack, their two recharges, their second food pack. Phase 2 (days 4-6): the new families'
    # packs and recharges, and a food pack and a recharge more for the phase-1 families.
    plan = {
        1: [(1, "phase-1", ["food_pack", "connectivity_pack"])],
        2: [(1, "phase-1", ["internet_recharge", "internet_recharge"])],
        3: [(1, "phase-1", ["food_pack"])],
        4: [(1, "phase-2", ["food_pack"]), (2, "phase-2", ["food_pack", "connectivity_pack"])],
        5: [(1, "phase-2", ["internet_recharge"]), (2, "phase-2", ["internet_recharge", "internet_recharge"])],
        6: [(2, "phase-2", ["food_pack"])],
    }
    food = {}
    for day, work in plan.items():
        sheets = {}
        for phase, campaign, items in work:
            for family in families[phase]:
                name = volunteers[family["city"]][family["device"]][0]
                for item in items:
                    sheets.setdefault(name, []).append((family["reference"], item, 1, campaign, ""))
                    count(family["city"], item, campaign)
                    if item == "food_pack":
                        food[family["city"]] = food.get(family["city"], 0) + 1
        if day == 1:
            # Planted: the second Casablanca volunteer also gives CAS-0001 its connectivity pack, offline.
            served_by = next(f["device"] for f in families[1] if f["reference"] == "CAS-0001")
            other = volunteers["Casablanca"][(served_by + 1) % VOLUNTEERS_PER_CITY][0]
            sheets.setdefault(other, []).append(("CAS-0001", "connectivity_pack", 1, "phase-1", "came to the hub"))
            count("Casablanca", "connectivity_pack", "phase-1")
            expected["breaches"].append({"reference": "CAS-0001", "item": "connectivity_pack", "campaign": "phase-1"})
        for name, rows in sheets.items():
            write(os.path.join(out, "sheets", "day%d-%s.csv" % (day, name)), ["family", "item", "qty", "campaign", "note"], rows)

    # Planted on day 5: a family that comes to two volunteers on the same day, registered by each (one in
    # Arabic script, one in Latin), each giving it a food pack.
    registrations = []
    for city, code in [("Fès", "FES"), ("Marrakech", "MAR")]:
        given, family = GIVEN[planted_names[city][0]], FAMILY[planted_names[city][1]]
        number = phone(rng, phones)
        pair = []
        for index, (script, head) in enumerate([("ar", "%s %s" % (given[1], family[1])), ("fr", "%s %s" % (given[0], family[0]))]):
            reference = "%s-N%02d" % (code, index + 1)
            device = volunteers[city][index][0]
            registrations.append({"device": device, "reference": reference, "head": head, "phone": number,
                                  "size": 4, "campaign": "phase-2"})
            count(city, "food_pack", "phase-2")
            food[city] += 1
            pair.append(reference)
        expected["duplicates"].append(sorted(pair))
        expected["families"] += 2
    with open(os.path.join(out, "registrations.json"), "w", encoding="utf-8") as handle:
        json.dump(registrations, handle, ensure_ascii=False, indent=1)

    # Stock: each hub receives the food packs and connectivity packs its city hands out, plus a margin;
    # Tanger's operator records one truck fewer (planted: it handed out more than it received).
    stock = []
    for city, code in CITIES:
        packs = food[city] + (10 if city != "Tanger" else -50)
        stock.append((city, "food_pack", packs))
        connectivity = sum(v for k, v in expected["totals"].items() if k.startswith(city + "|connectivity_pack|"))
        stock.append((city, "connectivity_pack", connectivity + 5))
        expected.setdefault("stock", {})["%s|food_pack" % city] = {"received": packs, "handed_out": food[city]}
    expected["overdrawn"] = ["Tanger|food_pack"]
    write(os.path.join(out, "stock.csv"), ["city", "item", "qty"], stock)
    expected["deliveries"] = sum(expected["totals"].values())
    expected["recharges"] = sum(v for k, v in expected["totals"].items() if "|internet_recharge|" in k)
    expected["devices"] = len(CITIES) * VOLUNTEERS_PER_CITY
    with open(os.path.join(out, "expected.json"), "w", encoding="utf-8") as handle:
        json.dump(expected, handle, ensure_ascii=False, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
