#!/usr/bin/env bash
# The FieldSync demo: the real campaign at its real size, on loopback. Central and 8 city hubs; the admin
# imports the associations, the campaigns, 1,000 families and 5,200 recharge codes; each hub enrols 3
# volunteers from a list and records the packs the warehouse brings; 24 volunteers work offline for six
# days from their sheets (food packs, connectivity packs, recharges), syncing with their hub each evening,
# hubs with central each night; phase 2 adds 1,000 families. Planted: a family served twice by two
# offline volunteers, two families registered twice (Arabic and Latin script), a volunteer whose clock is
# a day ahead, a hub that records fewer packs than it hands out. The report at the end: a page here, the
# whole of it in demo-out/report.txt (and .json, and the deliveries as CSV).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

# FIELDSYNC_BIN: use binaries built elsewhere (the tests); DEMO_OUT: where the report goes (default demo-out).
if [ -n "${FIELDSYNC_BIN:-}" ]; then
    BIN="$FIELDSYNC_BIN"
else
    # What the build needs, first: a missing package stops here, naming the apt-get line that installs it.
    . scripts/prerequisites.sh --python || exit
    "${SWIFT:-swift}" build -c release
    BIN="$("${SWIFT:-swift}" build -c release --show-bin-path)"
fi
OUT="${DEMO_OUT:-$REPO/demo-out}"
mkdir -p "$OUT"
SERVER="$BIN/sync-server"
FIELD="$BIN/field"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/fieldsync-demo.XXXXXX")"
PIDS=()
CITY_JOBS=()
cleanup() {
    for pid in "${CITY_JOBS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$WORK"
STARTED=$SECONDS

say() { printf '\033[1m%3ds  %s\033[0m\n' $((SECONDS - STARTED)) "$*"; }
# Runs a command, its output kept in $LOG (a city's own, when the cities work side by side); on failure,
# shows it and stops.
LOG=log.txt
run() {
    if ! "$@" >>"$LOG" 2>&1; then
        echo "failed: $*" >&2; tail -20 "$LOG" >&2; exit 1
    fi
}
# Starts a server in the background (its pid kept for the cleanup), then sets URL once it listens.
serve() {
    local name=$1; shift
    "$SERVER" serve --port 0 --log-level warning "$@" >"$name.out" 2>"$name.log" </dev/null &
    PIDS+=($!)
    URL=""
    for _ in $(seq 1 100); do
        if grep -q "listening on" "$name.out" 2>/dev/null; then
            URL=$(sed -n 's/^listening on //p' "$name.out")
            return
        fi
        sleep 0.1
    done
    echo "$name did not start:" >&2; cat "$name.log" >&2; exit 1
}

python3 "$REPO/scripts/campaign.py" campaign
C=campaign
CITIES=(Casablanca:cas Rabat:rab Marrakech:mar "Fès:fes" Tanger:tng Agadir:aga Oujda:ouj "Meknès:mek")
# The volunteer whose phone's clock is a day ahead (Oujda's first).
AHEAD=$(sed -n 2p $C/volunteers-ouj.csv | cut -d';' -f1)
field_as() {  # field_as DEVICE ARGS…: a volunteer's command on their device
    local device=$1; shift
    if [ "$device" = "$AHEAD" ]; then
        FIELDSYNC_CLOCK_OFFSET_MS=86400000 "$FIELD" "$@" --db "dev-$device.db"
    else
        "$FIELD" "$@" --db "dev-$device.db"
    fi
}
devices_of() { ls "enrol-$1" | sed -n 's/^[0-9]*-\(.*\)\.enrol$/\1/p'; }

# Runs FUNCTION CITY CODE for every city at once (the cities work side by side, as in the field); stops if
# any failed.
each_city() {
    local pids=() pid failed=0
    for entry in "${CITIES[@]}"; do
        LOG="log-${entry##*:}.txt" "$1" "${entry%%:*}" "${entry##*:}" &
        pids+=($!)
    done
    CITY_JOBS=("${pids[@]}")
    for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
    CITY_JOBS=()
    [ "$failed" = 0 ] || exit 1
}
say "Central, with an embedded SQLite store"
run "$SERVER" token issue --db central.db --role admin --name admin --out admin.token
for entry in "${CITIES[@]}"; do
    city=${entry%%:*} code=${entry##*:}
    run "$SERVER" token issue --db central.db --role hub --city "$city" --name "hub-$code" --out "hub-$code.token"
done
serve central --db central.db
CENTRAL=$URL

say "The admin imports the associations, the campaigns, the phase-1 families and the recharge codes"
run "$FIELD" admin import associations --csv $C/associations.csv --db central.db
run "$FIELD" admin import campaigns --csv $C/campaigns.csv --db central.db
run "$FIELD" admin import families --csv $C/families-phase1.csv --db central.db
run "$FIELD" admin vouchers import --csv $C/codes.csv --db central.db
for entry in "${CITIES[@]}"; do run "$FIELD" admin vouchers allot --city "${entry%%:*}" --count 650 --db central.db; done

say "8 city hubs start, sync with central, enrol their volunteers and record the warehouse's packs"
for entry in "${CITIES[@]}"; do
    city=${entry%%:*} code=${entry##*:}
    serve "hub-$code" --db "hub-$code.db" --upstream "$CENTRAL" --upstream-token-file "hub-$code.token"
    run "$SERVER" sync-upstream --db "hub-$code.db"
    run "$SERVER" token enrol --db "hub-$code.db" --csv "$C/volunteers-$code.csv" --server "$URL" --out "enrol-$code"
    while IFS=, read -r stock_city item qty; do
        [ "$stock_city" = "$city" ] || continue
        run "$FIELD" hub stock receive --city "$city" --item "$item" --qty "$qty" --by "hub-$code" --db "hub-$code.db"
    done <$C/stock.csv
done

say "24 volunteers set up their phones from their enrolment files; each hub gives them recharge codes"
enrol() {
    local device
    for device in $(devices_of "$2"); do
        run "$FIELD" init --enrol "enrol-$2/"*"-$device.enrol" --db "dev-$device.db"
        run field_as "$device" sync
        run "$FIELD" hub vouchers allot --device "$device" --count 216 --db "hub-$2.db"
    done
    run "$SERVER" sync-upstream --db "hub-$2.db"
}
each_city enrol

work() {  # a city's volunteers log their day's sheet (offline)
    local sheet device
    for device in $(devices_of "$2"); do
        sheet=$C/sheets/day$DAY-$device.csv
        [ ! -f "$sheet" ] || run field_as "$device" deliver --csv "$sheet"
    done
}
evening() {  # a city's volunteers sync with their hub, then the hub's nightly sync with central
    for device in $(devices_of "$2"); do run field_as "$device" sync; done
    run "$SERVER" sync-upstream --db "hub-$2.db"
}
morning() {  # a city's volunteers pick up what the night brought
    for device in $(devices_of "$2"); do run field_as "$device" sync; done
}

for DAY in 1 2 3 4 5 6; do
    if [ "$DAY" = 4 ]; then
        say "Phase 2: the admin imports 1,000 more families"
        run "$FIELD" admin import families --csv $C/families-phase2.csv --db central.db
        for entry in "${CITIES[@]}"; do run "$SERVER" sync-upstream --db "hub-${entry##*:}.db"; done
        each_city morning
    fi
    say "Day $DAY: the volunteers work offline from their sheets, sync in the evening; hubs sync at night"
    each_city work
    if [ "$DAY" = 5 ]; then
        # Two volunteers meet the same new family on the same day; each registers it, one in Arabic script.
        python3 -c 'import json,sys
for r in json.load(open(sys.argv[1])): print("\t".join([r["device"], r["reference"], r["head"], r["phone"], str(r["size"]), r["campaign"]]))' \
            $C/registrations.json >registrations.tsv
        while IFS=$'\t' read -r device reference head phone size campaign; do
            run field_as "$device" family add --reference "$reference" --head "$head" --phone "$phone" --size "$size" --force
            run field_as "$device" deliver --family "$reference" --item food_pack --campaign "$campaign"
        done <registrations.tsv
    fi
    each_city evening
    [ "$DAY" = 6 ] || each_city morning
done

say "The campaign ends: volunteers give their unused codes back, hubs return theirs to central"
finish() {  # a city's volunteers give their unused codes back, sync; the hub gives them back to central
    local device
    for device in $(devices_of "$2"); do run field_as "$device" vouchers return --all; done
    evening "$1" "$2"
    run "$FIELD" hub vouchers return --db "hub-$2.db"
    run "$SERVER" sync-upstream --db "hub-$2.db"
}
each_city finish

say "The admin's report (central)"
"$FIELD" report --db central.db >"$OUT/report.txt"
"$FIELD" report --db central.db --json >"$OUT/report.json"
run "$FIELD" export deliveries --db central.db --csv "$OUT/deliveries.csv" --bom
cp $C/expected.json "$OUT/expected.json"
python3 "$REPO/scripts/demo-summary.py" "$OUT/report.json"
echo
echo "The whole report: $OUT/report.txt (and report.json, deliveries.csv). Done in $((SECONDS - STARTED)) s;"
echo "everything started is stopped."
