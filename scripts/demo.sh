#!/usr/bin/env bash
# The FieldSync demo: central and two city hubs on loopback, four volunteer devices logging offline,
# the nightly sync, and the admin report (a double distribution and a family registered twice).
set -euo pipefail
cd "$(dirname "$0")/.."

# FIELDSYNC_BIN: use binaries built elsewhere (the tests); DEMO_OUT: keep the reports and exports there.
if [ -n "${FIELDSYNC_BIN:-}" ]; then
    BIN="$FIELDSYNC_BIN"
else
    # What the build needs, first: a missing package stops here, naming the apt-get line that installs it.
    . scripts/prerequisites.sh || exit
    # The build's output is shown as it comes; a failed build stops the demo with its status (set -e).
    "${SWIFT:-swift}" build -c release
    BIN="$("${SWIFT:-swift}" build -c release --show-bin-path)"
fi
SERVER="$BIN/sync-server"
FIELD="$BIN/field"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/fieldsync-demo.XXXXXX")"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
quiet() { "$@" >/dev/null; }
# Issues a token into a new file; its notice goes to tokens.log, shown if the command fails.
issue() { "$SERVER" token issue "$@" 2>>tokens.log || { cat tokens.log >&2; exit 1; }; }

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

say "Central: an embedded SQLite store"
issue --db central.db --role admin --name admin --out admin.token
issue --db central.db --role hub --city Tunis --name hub-tunis --out hub-tunis.token
issue --db central.db --role hub --city Sfax --name hub-sfax --out hub-sfax.token
serve central --db central.db
CENTRAL=$URL
echo "central at $CENTRAL"

say "Two city hubs, syncing with central nightly (and now, on demand)"
for city in Tunis Sfax; do
    lower=$(echo "$city" | tr 'A-Z' 'a-z')
    issue --db "hub-$lower.db" --role device --city "$city" --name "$lower-1" --out "$lower-1.token"
    issue --db "hub-$lower.db" --role device --city "$city" --name "$lower-2" --out "$lower-2.token"
done
serve hub-tunis --db hub-tunis.db --upstream "$CENTRAL" --upstream-token-file hub-tunis.token --sync-at 02:00
HUB_TUNIS=$URL
serve hub-sfax --db hub-sfax.db --upstream "$CENTRAL" --upstream-token-file hub-sfax.token --sync-at 02:00
HUB_SFAX=$URL
echo "hub Tunis at $HUB_TUNIS, hub Sfax at $HUB_SFAX"

say "The admin sets the entitlement rules"
"$FIELD" init --db admin.db --server "$CENTRAL" --token-file admin.token
"$FIELD" admin rule set --db admin.db --item food_pack --campaign 2026-winter --max 1
"$FIELD" admin rule set --db admin.db --item food_pack --campaign 2026-spring --max 1
"$FIELD" admin rule set --db admin.db --item connectivity_pack --max 1
quiet "$FIELD" sync --db admin.db
quiet "$SERVER" sync-upstream --db hub-tunis.db
quiet "$SERVER" sync-upstream --db hub-sfax.db

say "Four volunteers enrol with their hub"
"$FIELD" init --db amina.db --server "$HUB_TUNIS" --token-file tunis-1.token --volunteer Amina
"$FIELD" init --db youssef.db --server "$HUB_TUNIS" --token-file tunis-2.token --volunteer Youssef
"$FIELD" init --db leila.db --server "$HUB_SFAX" --token-file sfax-1.token --volunteer Leila
"$FIELD" init --db karim.db --server "$HUB_SFAX" --token-file sfax-2.token --volunteer Karim
for device in amina youssef leila karim; do quiet "$FIELD" sync --db "$device.db"; done

say "Amina registers families in Tunis and shares them at the hub"
quiet "$FIELD" family add --db amina.db --reference TUN-001 --head "Fatma Ben Ali" --phone "+216 98 123 456" --size 5
quiet "$FIELD" family add --db amina.db --reference TUN-002 --head "عائلة الحدّاد" --phone "+216 71 555 000" --size 7
quiet "$FIELD" family add --db amina.db --reference TUN-003 --head "Hédi Trabelsi" --phone "+216 22 333 444" --size 3
quiet "$FIELD" family add --db amina.db --reference TUN-004 --head "Mounira Jaziri" --phone "+216 50 111 222" --size 4
"$FIELD" sync --db amina.db
"$FIELD" sync --db youssef.db

say "Everyone works offline for the day"
# Both Tunis volunteers serve TUN-001 its winter food pack: neither can see the other's delivery.
"$FIELD" deliver --db amina.db --family TUN-001 --item food_pack --campaign 2026-winter
"$FIELD" deliver --db youssef.db --family TUN-001 --item food_pack --campaign 2026-winter --note "family came to the hub"
"$FIELD" deliver --db amina.db --family TUN-002 --item food_pack --campaign 2026-winter
"$FIELD" deliver --db amina.db --family TUN-002 --item internet_recharge --qty 2 --campaign 2026-winter
"$FIELD" deliver --db youssef.db --family TUN-003 --item connectivity_pack --campaign 2026-winter
"$FIELD" deliver --db youssef.db --family TUN-004 --item food_pack --campaign 2026-spring
# A new family comes to both volunteers on the same day: each registers it (another reference, same phone).
"$FIELD" family add --db amina.db --reference TUN-005 --head "Rania Mejri" --phone "+216 55 700 800" --size 4
"$FIELD" deliver --db amina.db --family TUN-005 --item food_pack --campaign 2026-spring
"$FIELD" family add --db youssef.db --reference TUN-105 --head "Rania Mejri" --phone "55 700 800" --size 4
"$FIELD" deliver --db youssef.db --family TUN-105 --item internet_recharge --campaign 2026-spring
# Both update TUN-003's phone, each on their own device: the later edit wins, the other is kept as a conflict.
"$FIELD" family edit --db amina.db TUN-003 --phone "+216 22 333 999"
"$FIELD" family edit --db youssef.db TUN-003 --phone "+216 22 333 888"
# A second winter pack on Amina's own device is refused with the evidence (the rule synced down).
"$FIELD" deliver --db amina.db --family TUN-001 --item food_pack --campaign 2026-winter || true
# Sfax.
quiet "$FIELD" family add --db leila.db --reference SFX-001 --head "Salah Gharbi" --phone "+216 74 200 300" --size 6
quiet "$FIELD" family add --db leila.db --reference SFX-002 --head "نادية الكعبي" --phone "+216 74 400 500" --size 2
"$FIELD" deliver --db leila.db --family SFX-001 --item food_pack --campaign 2026-winter
"$FIELD" deliver --db leila.db --family SFX-002 --item food_pack --campaign 2026-winter
"$FIELD" deliver --db leila.db --family SFX-002 --item connectivity_pack --campaign 2026-spring
quiet "$FIELD" sync --db leila.db
quiet "$FIELD" sync --db karim.db
"$FIELD" deliver --db karim.db --family SFX-001 --item internet_recharge --qty 3 --campaign 2026-spring

say "Back in signal: the volunteers sync with their hubs"
for device in amina youssef leila karim; do "$FIELD" sync --db "$device.db"; done

say "The nightly run, triggered now: hubs sync with central"
"$SERVER" sync-upstream --db hub-tunis.db
"$SERVER" sync-upstream --db hub-sfax.db

say "The admin report (central)"
"$FIELD" report --db central.db
"$FIELD" report --db central.db --json >report-before.json

say "The admin merges the duplicate family, and the report follows the link"
"$FIELD" admin merge-family --db central.db TUN-105 --into TUN-005
"$FIELD" report --db central.db
"$FIELD" report --db central.db --json >report-after.json
"$FIELD" export deliveries --db central.db --csv deliveries.csv --bom
"$FIELD" export families --db central.db --csv families.csv --bom
"$FIELD" export breaches --db central.db --csv breaches.csv
if [ -n "${DEMO_OUT:-}" ]; then cp report-before.json report-after.json deliveries.csv families.csv breaches.csv "$DEMO_OUT/"; fi

say "Done: everything started is stopped"
