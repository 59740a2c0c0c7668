#!/usr/bin/env bash
# The client conformance suite (clients/python/conformance): the same scenarios run against the real
# sync-server with both clients, the Swift `field` binary and the Python package written from
# docs/protocol.md alone. First sync, paging, cuts in the request / the answer's headers / its body (a
# fault proxy), replay, clocks ahead / behind / old stamps under a right clock, a restored backup, a
# refused record, a scope move, a pulled stamp too far ahead, the clock exchange, the heartbeat, and each
# domain rule broken on purpose (Python, raw); and the Python client's unit tests (clients/python/tests).
#
#   scripts/conformance.sh             # runs the suite (about half a minute after the build)
#   scripts/conformance.sh -k paging   # extra arguments go to pytest
#   scripts/conformance.sh --install   # only put the pinned zstandard and pytest in .venv (CI does this first)
#
# Needs python3 with venv (Debian: python3-venv) and the release build (`swift build -c release`; `make test`
# builds it first); builds nothing. Each test starts its own sync-server on a free loopback port
# (--port 0) with a temporary database and tokens issued by `sync-server token issue`, in a temporary
# directory removed at the end; servers still running then (a killed run) are stopped by their pid.
set -euo pipefail
cd "$(dirname "$0")/.."

zstandard_version=0.25.0
pytest_version=9.2.0
venv=.venv
if ! "$venv/bin/python" - "$zstandard_version" "$pytest_version" 2>/dev/null <<'PY'
import sys, zstandard, pytest
sys.exit(0 if (zstandard.__version__, pytest.__version__) == tuple(sys.argv[1:3]) else 1)
PY
then
    echo "== installing zstandard $zstandard_version and pytest $pytest_version into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "zstandard==$zstandard_version" "pytest==$pytest_version"
fi
[ "${1:-}" = --install ] && exit 0

bin="$(swift build -c release --show-bin-path)"
for tool in sync-server field; do
    [ -x "$bin/$tool" ] || { echo "error: $bin/$tool is missing; run 'swift build -c release'." >&2; exit 1; }
done

work="$(mktemp -d "${TMPDIR:-/tmp}/fieldsync-conformance.XXXXXX")"
tests=""
cleanup() {
    if [ -n "$tests" ] && kill -0 "$tests" 2>/dev/null; then
        kill "$tests" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$tests" 2>/dev/null || break; sleep 0.1; done
    fi
    if [ -s "$work/pids" ]; then
        while read -r pid; do
            kill "$pid" 2>/dev/null || true
        done < "$work/pids"
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== conformance: the Swift client ($bin/field) and the Python client against $bin/sync-server"
FIELDSYNC_BIN="$bin" FIELDSYNC_CONFORMANCE_PIDS="$work/pids" PYTHONDONTWRITEBYTECODE=1 \
    "$venv/bin/python" -m pytest clients/python/tests clients/python/conformance -p no:cacheprovider --basetemp "$work/tests" \
    -q -rxXs "$@" &
tests=$!
wait "$tests"
