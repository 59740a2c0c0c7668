#!/usr/bin/env bash
# The FieldSync demo with central on PostgreSQL: a small story (two city hubs, four volunteer
# devices offline, the nightly sync, the admin report), with central's store in a throwaway PostgreSQL
# cluster behind two sync-server instances; the Tunis hub syncs with one, the Sfax hub with the other.
# The cluster is made the way the tests make theirs (Tests/FieldSyncTesting/PostgresCluster.swift): initdb
# in a temporary folder as an unprivileged user (nobody, when this runs as root), a free port on 127.0.0.1,
# no TLS; it is stopped and removed on exit, with every server the demo started.
set -euo pipefail
cd "$(dirname "$0")/.."

# FIELDSYNC_BIN: use binaries built elsewhere (the tests); DEMO_OUT: keep the reports and exports there.
if [ -n "${FIELDSYNC_BIN:-}" ]; then
    BIN="$FIELDSYNC_BIN"
else
    # What the build and PostgreSQL need, first: a missing package stops here, naming the apt-get line.
    . scripts/prerequisites.sh --postgres || exit
    "${SWIFT:-swift}" build -c release
    BIN="$("${SWIFT:-swift}" build -c release --show-bin-path)"
fi
SERVER="$BIN/sync-server"
FIELD="$BIN/field"

# PostgreSQL's programs: on the PATH, or where Debian puts them (/usr/lib/postgresql/VERSION/bin, newest first).
PG_BIN=""
for folder in $(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)") \
    $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$folder/initdb" ] && [ -x "$folder/pg_ctl" ]; then PG_BIN=$folder; break; fi
done
if [ -z "$PG_BIN" ]; then
    sudo="sudo "; [ "$(id -u)" = 0 ] && sudo=""
    printf '%s\n' "PostgreSQL's server programs (initdb, pg_ctl) are neither on the PATH nor in" \
        "/usr/lib/postgresql/*/bin. Install them with: ${sudo}apt-get install -y postgresql" >&2
    exit 2
fi
PSQL="$PG_BIN/psql"; [ -x "$PSQL" ] || PSQL=$(command -v psql)
# PostgreSQL refuses to run as root: then its programs run as nobody (setpriv, or runuser).
AS_SERVER=()
if [ "$(id -u)" = 0 ]; then
    if command -v setpriv >/dev/null; then
        AS_SERVER=(setpriv "--reuid=$(id -u nobody)" "--regid=$(id -g nobody)" --clear-groups --)
    else
        AS_SERVER=(runuser -u nobody --)
    fi
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/fieldsync-demo.XXXXXX")"
# Short (a Unix socket's path has at most 107 bytes) and reachable by nobody.
PGDIR="$(mktemp -d /tmp/fieldsync-pg.XXXXXX)"
PIDS=()
# Runs a PostgreSQL server program in its folder, as the server's user, without the caller's PG… variables
# and with no descriptor but 0–2: the server pg_ctl leaves running must not hold a pipe of the caller's (a
# test waits for the demo's output to end).
pg() {
    (
        for fd in $(ls "/proc/$BASHPID/fd"); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done 2>/dev/null
        cd "$PGDIR" && exec env -u PGDATA -u PGHOST -u PGPORT -u PGUSER "${AS_SERVER[@]}" "$PG_BIN/$@"
    )
}
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ -f "$PGDIR/data/postmaster.pid" ]; then
        pg pg_ctl --pgdata "$PGDIR/data" --mode fast --wait --timeout 60 stop >/dev/null 2>&1 \
            || kill -9 "$(head -1 "$PGDIR/data/postmaster.pid")" 2>/dev/null || true
    fi
    rm -rf "$WORK" "$PGDIR"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] && chown nobody "$PGDIR"
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

say "Central: PostgreSQL (a throwaway cluster), behind two sync-server instances"
pg initdb --pgdata "$PGDIR/data" --username postgres --auth trust --encoding UTF8 --locale C \
    --no-instructions >"$PGDIR/initdb.log" 2>&1 || { cat "$PGDIR/initdb.log" >&2; exit 1; }
# A free port (nothing answers on it); another one if the server cannot have it.
for attempt in 1 2 3 4 5; do
    PORT=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && continue
    cat >>"$PGDIR/data/postgresql.conf" <<EOF

# demo-postgres.sh: loopback only; fast, not durable (the cluster is thrown away).
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$PGDIR'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    pg pg_ctl --pgdata "$PGDIR/data" --log "$PGDIR/server.log" --wait --timeout 60 start \
        </dev/null >/dev/null 2>&1 && break
    [ "$attempt" = 5 ] && { echo "PostgreSQL did not start:" >&2; tail -15 "$PGDIR/server.log" >&2; exit 1; }
done
"$PSQL" --no-psqlrc --quiet --host 127.0.0.1 --port "$PORT" --username postgres --dbname postgres \
    --command "CREATE DATABASE central"
STORE="postgres://postgres@127.0.0.1:$PORT/central?sslmode=disable"
"$SERVER" migrate --store "$STORE" 2>migrate.log || { cat migrate.log >&2; exit 1; }
issue --store "$STORE" --role admin --name admin --out admin.token
issue --store "$STORE" --role hub --city Tunis --name hub-tunis --out hub-tunis.token
issue --store "$STORE" --role hub --city Sfax --name hub-sfax --out hub-sfax.token
serve central-a --store "$STORE" --store-pool-size 4
CENTRAL_A=$URL
serve central-b --store "$STORE" --store-pool-size 4
CENTRAL_B=$URL
echo "PostgreSQL on 127.0.0.1:$PORT (cluster in $PGDIR); central's instances at $CENTRAL_A and $CENTRAL_B"

say "Two city hubs, each syncing with its own instance of central nightly (and now, on demand)"
for city in Tunis Sfax; do
    lower=$(echo "$city" | tr 'A-Z' 'a-z')
    issue --db "hub-$lower.db" --role device --city "$city" --name "$lower-1" --out "$lower-1.token"
    issue --db "hub-$lower.db" --role device --city "$city" --name "$lower-2" --out "$lower-2.token"
done
serve hub-tunis --db hub-tunis.db --upstream "$CENTRAL_A" --upstream-token-file hub-tunis.token --sync-at 02:00
HUB_TUNIS=$URL
serve hub-sfax --db hub-sfax.db --upstream "$CENTRAL_B" --upstream-token-file hub-sfax.token --sync-at 02:00
HUB_SFAX=$URL
echo "hub Tunis at $HUB_TUNIS (central A), hub Sfax at $HUB_SFAX (central B)"

say "The admin sets the entitlement rules (through central A)"
"$FIELD" init --db admin.db --server "$CENTRAL_A" --token-file admin.token
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

say "The nightly run, triggered now: hubs sync with central (Tunis with A, Sfax with B)"
"$SERVER" sync-upstream --db hub-tunis.db
"$SERVER" sync-upstream --db hub-sfax.db

say "Central's tables, as psql shows them (one database behind both instances)"
"$PSQL" --no-psqlrc --host 127.0.0.1 --port "$PORT" --username postgres --dbname central --command \
    "SELECT f.city, f.reference, f.head_name, d.item, d.campaign, d.volunteer FROM deliveries d
     JOIN families f ON f.id = d.family ORDER BY f.city DESC, f.reference, d.item"

say "The admin report (the admin's device, now syncing with central B: either instance serves it)"
quiet "$FIELD" init --db admin.db --server "$CENTRAL_B" --token-file admin.token
"$FIELD" sync --db admin.db
"$FIELD" report --db admin.db
"$FIELD" report --db admin.db --json >report-before.json

say "What central holds beyond the admin's replica (psql): every device and hub, and the conflict the Tunis hub resolved"
# Central's own tables (the SQLite demo's report reads them in central.db): the devices behind a hub
# (their statuses relayed), and the value of TUN-003's phone that lost.
central() { "$PSQL" --no-psqlrc --host 127.0.0.1 --port "$PORT" --username postgres --dbname central "$@"; }
central --command "SELECT name, role, city, via FROM _heartbeats ORDER BY city, role, name"
central --command "SELECT collection, record_id, field, value #>> '{}' AS lost_value FROM _history ORDER BY id"
central --no-align --tuples-only --command "SELECT name FROM _heartbeats ORDER BY name" >central-devices.txt
central --no-align --tuples-only --command "SELECT field, value #>> '{}' FROM _history ORDER BY id" >central-conflicts.txt

say "The admin merges the duplicate family, and the report follows the link"
"$FIELD" admin merge-family --db admin.db TUN-105 --into TUN-005
quiet "$FIELD" sync --db admin.db
"$FIELD" report --db admin.db
"$FIELD" report --db admin.db --json >report-after.json
"$FIELD" export deliveries --db admin.db --csv deliveries.csv --bom
"$FIELD" export families --db admin.db --csv families.csv --bom
"$FIELD" export breaches --db admin.db --csv breaches.csv
if [ -n "${DEMO_OUT:-}" ]; then
    cp report-before.json report-after.json deliveries.csv families.csv breaches.csv central-devices.txt \
        central-conflicts.txt "$DEMO_OUT/"
fi

say "Done: every server and the PostgreSQL cluster are stopped, and its folder removed"
