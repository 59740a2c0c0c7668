#!/usr/bin/env bash
# Fuzzes the whole HTTP surface of the release sync-server: whole requests (request line, every header,
# chunked framing, bodies) from real sync requests, mutated (scripts/fuzz/http_fuzz.py). Fails on any 5xx
# (507 aside), on a server that dies or stops answering, and on a replica that is not sound afterwards.
#
#   scripts/fuzz/http.sh                     # 1,000,000 requests (FUZZ_HTTP_RUNS), seed FUZZ_HTTP_SEED
set -euo pipefail
cd "$(dirname "$0")/../.."

runs="${FUZZ_HTTP_RUNS:-1000000}"
seed="${FUZZ_HTTP_SEED:-20261206}"
swift build -c release --product sync-server
bin="$(swift build -c release --show-bin-path)"
work="$(mktemp -d)"
server=""
cleanup() {
    if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
        kill "$server"
        for _ in $(seq 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$server" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

db="$work/central.db"
for spec in "admin:" "device:Tunis" "hub:Sfax"; do
    role="${spec%%:*}"
    city="${spec#*:}"
    "$bin/sync-server" token issue --db "$db" --role "$role" ${city:+--city "$city"} --name "fuzz-$role" \
        --out "$work/$role.token"
    cat "$work/$role.token" >> "$work/tokens"
    echo >> "$work/tokens"
done
# Rate, failed-authentication and decompression limits would answer 429 before the code under test runs
# (ResourceBoundsTests test them); the connection bounds stay on.
"$bin/sync-server" serve --db "$db" --port 0 --durability normal --rate-limit 1000000 --max-auth-failures 0 \
    --max-decompressed-bytes-per-second 0 > "$work/server.out" 2> "$work/server.err" &
server=$!
port=""
for _ in $(seq 300); do
    port="$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$work/server.out")"
    [ -n "$port" ] && break
    kill -0 "$server" 2>/dev/null || { cat "$work/server.err" >&2; exit 1; }
    sleep 0.1
done
[ -n "$port" ] || { echo "error: the server did not start" >&2; cat "$work/server.err" >&2; exit 1; }

echo "== fuzzing the HTTP surface: $runs requests, seed $seed"
started=$(date +%s)
status=0
python3 scripts/fuzz/http_fuzz.py --port "$port" --pid "$server" --tokens "$work/tokens" --runs "$runs" \
    --seed "$seed" || status=$?
if [ "$status" -eq 0 ]; then
    curl -sf "http://127.0.0.1:$port/healthz" > /dev/null || { echo "FAIL: /healthz after the run"; status=1; }
fi
kill "$server"
wait "$server" 2>/dev/null || true
server=""
check="$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])' "$db")"
[ "$check" = ok ] || { echo "FAIL: integrity_check: $check"; status=1; }
if grep -q "fs1_" "$work/server.out" "$work/server.err"; then echo "FAIL: a token in the server's log"; status=1; fi
echo "== $(( $(date +%s) - started )) s; exit status $status"
exit "$status"
