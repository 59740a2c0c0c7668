#!/usr/bin/env bash
# Checks scripts/prerequisites.sh and the start of scripts/demo.sh with fakes, removing nothing from this
# machine: a fake pkg-config that lacks libzstd (on the PATH, and named by FIELDSYNC_PKG_CONFIG), no
# pkg-config at all, a fake apt-get (FIELDSYNC_APT_GET) that "installs" by letting the fake pkg-config find
# the module (or by making the initdb that FIELDSYNC_INITDB names), a python3 without venv, no PostgreSQL,
# no swift, and a swift whose build fails.
#
#   bash scripts/test-prerequisites.sh      # prints one line a check; exits 1 if any failed
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

work="$(mktemp -d "${TMPDIR:-/tmp}/fieldsync-prerequisites.XXXXXX")"
trap 'rm -rf "$work"' EXIT
fakes="$work/bin"
mkdir -p "$fakes"

# pkg-config knows every module but those listed in $work/lacking (one a line); an "installed" one is no
# longer lacking once $work/installed names it.
cat >"$fakes/pkg-config" <<EOF
#!/usr/bin/env bash
[ "\$1" = --exists ] || exit 1
shift
for module in "\$@"; do
    if grep -qx "\$module" "$work/lacking" 2>/dev/null && ! grep -qx "\$module" "$work/installed" 2>/dev/null; then
        exit 1
    fi
done
exit 0
EOF
# apt-get logs its arguments; "install" marks the module as installed unless $work/apt-fails exists, and
# "install … postgresql" makes $work/initdb.
cat >"$fakes/apt-get" <<EOF
#!/usr/bin/env bash
echo "\$*" >>"$work/apt.log"
[ -e "$work/apt-fails" ] && exit 100
[ "\$1" = install ] && echo libzstd >>"$work/installed"
case " \$* " in
    *" postgresql "*) printf '#!/bin/sh\\nexit 0\\n' >"$work/initdb" && chmod +x "$work/initdb" ;;
esac
exit 0
EOF
# swift logs its arguments; a build fails when $work/build-fails exists, with a compiler's error.
cat >"$fakes/swift" <<EOF
#!/usr/bin/env bash
echo "\$*" >>"$work/swift.log"
if [ -e "$work/build-fails" ]; then
    echo "Sources/CZstd/shim.h:5:10: error: 'zstd.h' file not found" >&2
    exit 1
fi
exit 0
EOF
printf '#!/usr/bin/env bash\nexit 0\n' >"$fakes/git"
chmod +x "$fakes"/*
# A python3 without ensurepip (Debian's, python3-venv not installed), on a PATH of its own.
mkdir -p "$work/novenv"
printf '#!/usr/bin/env bash\nexit 1\n' >"$work/novenv/python3"
chmod +x "$work/novenv/python3"

passed=0
failed=0
check() {  # check NAME CONDITION…
    local name=$1
    shift
    if "$@"; then
        echo "ok - $name"
        passed=$((passed + 1))
    else
        echo "FAILED - $name"
        echo "  status $status; stdout:"
        sed 's/^/    /' "$work/out"
        echo "  stderr:"
        sed 's/^/    /' "$work/err"
        failed=$((failed + 1))
    fi
}
# run ENV… -- COMMAND…: runs with a clean slate of logs and marks, the fakes first on the PATH.
run() {
    rm -f "$work/apt.log" "$work/swift.log" "$work/installed" "$work/initdb"
    local environment=()
    while [ "$1" != -- ]; do environment+=("$1"); shift; done
    shift
    env -u FIELDSYNC_NO_INSTALL -u FIELDSYNC_PKG_CONFIG -u FIELDSYNC_APT_GET -u FIELDSYNC_BIN -u SWIFT \
        -u FIELDSYNC_INITDB \
        PATH="$fakes:$PATH" FIELDSYNC_APT_GET="$fakes/apt-get" "${environment[@]}" "$@" \
        >"$work/out" 2>"$work/err" </dev/null
    status=$?
}
stderr_has_line() { grep -qxF -- "$1" "$work/err"; }
no_apt() { [ ! -e "$work/apt.log" ]; }
# stops_with PACKAGES…: exit 2, "Missing packages: PACKAGES" and the apt-get line for them, on stderr.
stops_with() {
    [ "$status" = 2 ] && stderr_has_line "Missing packages: $*" && stderr_has_line "${sudo}apt-get install -y $*"
}
sudo="sudo "
[ "$(id -u)" = 0 ] && sudo=""

# 1. libzstd missing, FIELDSYNC_NO_INSTALL=1: the exact lines, exit 2, nothing installed.
echo libzstd >"$work/lacking"
run FIELDSYNC_NO_INSTALL=1 -- bash scripts/prerequisites.sh
check "libzstd missing (fake pkg-config on the PATH): exit 2" [ "$status" = 2 ]
check "  prints 'Missing packages: libzstd-dev'" stderr_has_line "Missing packages: libzstd-dev"
check "  prints '${sudo}apt-get install -y libzstd-dev'" stderr_has_line "${sudo}apt-get install -y libzstd-dev"
check "  runs no apt-get" no_apt

# 2. The same through FIELDSYNC_PKG_CONFIG, the fake not on the PATH.
run FIELDSYNC_NO_INSTALL=1 FIELDSYNC_PKG_CONFIG="$fakes/pkg-config" PATH="$PATH" -- \
    bash scripts/prerequisites.sh
check "libzstd missing (FIELDSYNC_PKG_CONFIG): exit 2 with the exact lines" stops_with libzstd-dev

# 3. Several missing: one line names them all, in the order of the build's needs.
printf 'sqlite3\nlibzstd\n' >"$work/lacking"
run FIELDSYNC_NO_INSTALL=1 -- bash scripts/prerequisites.sh
check "libsqlite3-dev and libzstd-dev missing: one install line for both" stops_with libsqlite3-dev libzstd-dev

# 4. Nothing missing: exit 0, silent.
: >"$work/lacking"
run FIELDSYNC_NO_INSTALL=1 -- bash scripts/prerequisites.sh
check "nothing missing: exit 0, nothing on stderr" eval '[ "$status" = 0 ] && [ ! -s "$work/err" ]'

# 5. No pkg-config at all: it is named first (the headers of this machine decide the rest).
run FIELDSYNC_NO_INSTALL=1 FIELDSYNC_PKG_CONFIG="$work/no-such-pkg-config" -- bash scripts/prerequisites.sh
check "no pkg-config: exit 2, 'Missing packages: pkg-config …'" \
    eval '[ "$status" = 2 ] && grep -qE "^Missing packages: pkg-config( |$)" "$work/err"'

# 6. Installing: as root, apt-get update then install, shown, and the check passes after it; as another
#    user, the sudo line and nothing run.
echo libzstd >"$work/lacking"
run -- bash scripts/prerequisites.sh
if [ "$(id -u)" = 0 ]; then
    expected=$(printf 'update\ninstall -y --no-install-recommends libzstd-dev')
    check "root, FIELDSYNC_NO_INSTALL unset: apt-get update, then install of libzstd-dev; exit 0" \
        eval '[ "$status" = 0 ] && [ "$(cat "$work/apt.log" 2>/dev/null)" = "$expected" ]'
    check "  says what it installs" grep -q "installing what the build needs: libzstd-dev" "$work/out"
    touch "$work/apt-fails"
    run -- bash scripts/prerequisites.sh
    rm -f "$work/apt-fails"
    check "root, apt-get fails: exit 2 with the exact lines" stops_with libzstd-dev
else
    check "not root: exit 2 with the sudo line, no apt-get run" \
        eval '[ "$status" = 2 ] && stderr_has_line "sudo apt-get install -y libzstd-dev" && no_apt'
fi

# 7. make test's Python steps: a python3 without venv names python3-venv.
: >"$work/lacking"
run FIELDSYNC_NO_INSTALL=1 PATH="$work/novenv:$fakes:$PATH" -- bash scripts/prerequisites.sh --python
check "--python, python3 without venv: 'Missing packages: python3-venv'" stops_with python3-venv
run FIELDSYNC_NO_INSTALL=1 PATH="$work/novenv:$fakes:$PATH" -- bash scripts/prerequisites.sh
check "without --python, python3 is not asked about" [ "$status" = 0 ]

# 7b. make test's PostgreSQL (--test): its absence names postgresql; the build alone does not ask.
run FIELDSYNC_NO_INSTALL=1 FIELDSYNC_INITDB="$work/initdb" -- bash scripts/prerequisites.sh --test
check "--test, no PostgreSQL: 'Missing packages: postgresql'" stops_with postgresql
run FIELDSYNC_NO_INSTALL=1 FIELDSYNC_INITDB="$work/initdb" PATH="$work/novenv:$fakes:$PATH" -- \
    bash scripts/prerequisites.sh --test
check "--test, python3 without venv and no PostgreSQL: one line for both" stops_with python3-venv postgresql
run FIELDSYNC_NO_INSTALL=1 FIELDSYNC_INITDB="$work/initdb" -- bash scripts/prerequisites.sh --python
check "--python alone does not ask for PostgreSQL" [ "$status" = 0 ]
# make demo-postgres (--postgres): PostgreSQL without make test's Python.
run FIELDSYNC_NO_INSTALL=1 FIELDSYNC_INITDB="$work/initdb" PATH="$work/novenv:$fakes:$PATH" -- \
    bash scripts/prerequisites.sh --postgres
check "--postgres, no PostgreSQL: 'Missing packages: postgresql', python3's venv not asked about" stops_with postgresql
if [ "$(id -u)" = 0 ]; then
    run FIELDSYNC_INITDB="$work/initdb" -- bash scripts/prerequisites.sh --test
    expected=$(printf 'update\ninstall -y --no-install-recommends postgresql')
    check "root, --test, no PostgreSQL: apt-get install postgresql, then exit 0" \
        eval '[ "$status" = 0 ] && [ "$(cat "$work/apt.log" 2>/dev/null)" = "$expected" ]'
fi

# 8. No swift: exit 2, saying where to get it.
run SWIFT="$work/no-such-swift" -- bash scripts/prerequisites.sh
check "no swift: exit 2, 'swift not found' and where to get it" \
    eval '[ "$status" = 2 ] && grep -q "^swift not found" "$work/err" && grep -q "swift.org/install" "$work/err"'

# 9. The demo stops before building when a package is missing.
echo libzstd >"$work/lacking"
run FIELDSYNC_NO_INSTALL=1 -- bash scripts/demo.sh
check "demo with libzstd missing: exit 2 with the exact lines" stops_with libzstd-dev
check "  swift never run" [ ! -e "$work/swift.log" ]

# 10. The demo shows a failed build's error and fails with it.
: >"$work/lacking"
touch "$work/build-fails"
run FIELDSYNC_NO_INSTALL=1 -- bash scripts/demo.sh
rm -f "$work/build-fails"
check "demo with a failing build: exit non-zero" [ "$status" != 0 ]
check "  the compiler's error shown" grep -q "error: 'zstd.h' file not found" "$work/err"
check "  the build ran once, and nothing after it" eval '[ "$(cat "$work/swift.log" 2>/dev/null)" = "build -c release" ]'

# 11. Nothing in the build path of make demo / make test sends output to /dev/null.
check "no swift build redirected to /dev/null in scripts/ or the Makefile" \
    eval '! grep -nE "swift[^ ]* build[^|]*>[[:space:]]*/dev/null" "$repo"/scripts/*.sh "$repo/Makefile"'

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
