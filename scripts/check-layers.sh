#!/usr/bin/env bash
# The layering checks of docs/architecture.md: storage and merge never name a wire type, the front ends
# hold no SQL, the HTTP routes reach storage only through the store interface, central on PostgreSQL never calls
# PostgresNIO's query directly, SyncCoreTests and the
# simulation's harness depend on no PostgreSQL code, and no source file grows past 350 lines. Prints every breach and exits 1 when there is one.
set -uo pipefail
cd "$(dirname "$0")/.."

status=0
breach() { echo "layering: $*" >&2; status=1; }

if hits=$(grep -rnE 'SyncRequest|WireBatch|SyncResponse' Sources/SyncCore/Storage Sources/SyncCore/Merge Sources/SyncCore/Store); then
    breach "storage, merge and the store interface name wire types:"$'\n'"$hits"
fi
if hits=$(grep -rlE 'sql:|SELECT |INSERT INTO|UPDATE .* SET|DELETE FROM' Sources/FieldCLI Sources/SyncServer); then
    breach "SQL outside SyncCore's storage and FieldDomain:"$'\n'"$hits"
fi
if hits=$(grep -rnE '\bReplica\b|\.replica\b|GRDB' Sources/SyncServer/Routes Sources/SyncServer/Auth); then
    breach "the routes reach storage other than through SyncService and its SyncStore:"$'\n'"$hits"
fi
# Central on PostgreSQL runs every statement through PostgresConnection.run and its transaction(): PostgresNIO's
# own query and withTransaction wait forever on a connection the server has ended.
if hits=$(grep -rnE '\.query\(|\.withTransaction\(logger' Sources/CentralPostgres | grep -v 'PostgresConnection+Run.swift'); then
    breach "CentralPostgres calls PostgresNIO's query or withTransaction directly (use run / transaction):"$'\n'"$hits"
fi
# The simulation's harness (Tests/FieldSyncSimulation) and SyncCoreTests run with central on SQLite and know
# nothing of PostgreSQL: CentralPostgresTests plugs PostgreSQL's store into the same harness.
if hits=$(grep -rnE '^\s*(@testable |package |public |internal )*import (CentralPostgres|PostgresNIO|FieldSyncTesting)\b' \
    Tests/SyncCoreTests Tests/FieldSyncSimulation); then
    breach "SyncCoreTests and the simulation's harness import PostgreSQL code:"$'\n'"$hits"
fi
for target in SyncCoreTests FieldSyncSimulation; do
    if awk -v target="$target" '$0 ~ "name: \"" target "\"" { inside = 1 } inside && /^        \),?$/ { exit }
        inside && /CentralPostgres|postgres-nio|FieldSyncTesting/ { found = 1 } END { exit !found }' Package.swift; then
        breach "Package.swift: $target depends on PostgreSQL code (CentralPostgres, postgres-nio or FieldSyncTesting)"
    fi
done
while read -r lines file; do
    [ "$file" = total ] && continue
    if [ "$lines" -gt 350 ]; then breach "$file has $lines lines (at most 350)"; fi
done < <(find Sources -name '*.swift' -print0 | xargs -0 wc -l)

[ $status -eq 0 ] && echo "layering: ok"
exit $status
