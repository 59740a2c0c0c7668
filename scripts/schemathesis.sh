#!/usr/bin/env bash
# Runs schemathesis (pinned, in .venv) against docs/openapi.yaml with the real sync-server on loopback:
# every check on, every phase (examples, coverage, fuzzing, stateful), once with an admin token and once
# with a device token. Fails on any server error or any response that breaks the document.
#
#   scripts/schemathesis.sh               # bounded: SCHEMATHESIS_EXAMPLES (default 50) cases per operation
#   SCHEMATHESIS_EXAMPLES=1000 SCHEMATHESIS_SEED=7 scripts/schemathesis.sh
#   scripts/schemathesis.sh --install    # only create .venv with the pinned schemathesis (CI does this first)
#
# Needs python3 with venv (Debian: python3-venv) and the release build (`swift build -c release`; `make test`
# builds it first). Creates .venv with the pinned schemathesis when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

version=4.32.5
# backports.zstd lets the HTTP client (urllib3) read zstd answers, the server's preferred coding.
zstd_backport=1.8.0
examples="${SCHEMATHESIS_EXAMPLES:-50}"
seed="${SCHEMATHESIS_SEED:-$RANDOM}"
venv=.venv
if [ "$("$venv/bin/schemathesis" --version 2>/dev/null)" != "schemathesis, version $version" ] \
    || ! "$venv/bin/python" -c "from backports import zstd" 2>/dev/null; then
    echo "== installing schemathesis $version and backports.zstd $zstd_backport into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version" "backports.zstd==$zstd_backport"
fi
[ "${1:-}" = --install ] && exit 0
bin="$(swift build -c release --show-bin-path)"
[ -x "$bin/sync-server" ] || { echo "error: $bin/sync-server is missing; run 'swift build -c release'." >&2; exit 1; }

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
admin="$("$bin/sync-server" token issue --db "$db" --role admin --name schemathesis-admin)"
device="$("$bin/sync-server" token issue --db "$db" --role device --city Tunis --name schemathesis-device)"
# The fuzzer sends far more than 50 requests a second from one token, and far more than 100 without a valid
# token a minute (its auth checks): neither limit is what is tested here (ResourceBoundsTests test them).
"$bin/sync-server" serve --db "$db" --port 0 --durability normal --rate-limit 100000 --max-auth-failures 0 \
    > "$work/server.out" 2> "$work/server.err" &
server=$!
port=""
for _ in $(seq 300); do
    port="$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$work/server.out")"
    [ -n "$port" ] && break
    kill -0 "$server" 2>/dev/null || { cat "$work/server.err" >&2; exit 1; }
    sleep 0.1
done
[ -n "$port" ] || { echo "error: the server did not start" >&2; cat "$work/server.err" >&2; exit 1; }

status=0
for role in admin device; do
    token="$admin"
    [ "$role" = device ] && token="$device"
    echo "== schemathesis $version, $role token, $examples examples per operation, seed $seed"
    "$venv/bin/schemathesis" run docs/openapi.yaml --url "http://127.0.0.1:$port" --checks all \
        --header "Authorization: Bearer $token" --max-examples "$examples" --seed "$seed" \
        --phases examples,coverage,fuzzing,stateful --request-timeout 20 --workers 2 --no-color \
        --output-sanitize true || status=$?
done
if grep -q "fs1_" "$work/server.out" "$work/server.err"; then
    echo "error: a token appears in the server's log" >&2
    status=1
fi
exit "$status"
