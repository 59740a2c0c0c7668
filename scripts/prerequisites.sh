#!/usr/bin/env bash
# What building FieldSync needs on Debian, checked before `make demo` and `make test` build anything: the
# system libraries Package.swift links (SQLite, libcurl, zlib, zstd) with pkg-config, git (SwiftPM fetches
# the dependencies with it) and swift; with --python also python3 and its venv module (make test's
# schemathesis and conformance steps create .venv); with --test those and PostgreSQL's server programs
# (the CentralPostgres tests start throwaway clusters: initdb and pg_ctl on the PATH or in
# /usr/lib/postgresql/*/bin, where Debian's package `postgresql` puts them).
#
#   bash scripts/prerequisites.sh            # the build's needs
#   bash scripts/prerequisites.sh --python   # and make test's Python steps
#   bash scripts/prerequisites.sh --test     # and everything else make test needs (PostgreSQL)
#   bash scripts/prerequisites.sh --postgres # the build's needs and PostgreSQL's (make demo-postgres)
#   . scripts/prerequisites.sh               # sourced (scripts/demo.sh): may also put swift on the PATH
#
# Missing packages are installed (apt-get update, then apt-get install, shown as they run) when this runs as
# root where apt-get is and FIELDSYNC_NO_INSTALL is unset. Otherwise it prints on stderr
#   Missing packages: libzstd-dev
#   sudo apt-get install -y libzstd-dev
# (no sudo for root) and exits 2, as it does when swift cannot be found.
# FIELDSYNC_PKG_CONFIG names the pkg-config to ask (default: pkg-config on the PATH), FIELDSYNC_APT_GET the
# apt-get to run, SWIFT the swift to look for, FIELDSYNC_INITDB the one initdb to look for (default: the
# PATH, then /usr/lib/postgresql/*/bin): scripts/test-prerequisites.sh checks all this with fakes, without
# removing anything from the machine.

# The Debian packages missing for the build (and, with --python, for make test's Python steps; with --test,
# for those and PostgreSQL's), one line.
fieldsync_missing_packages() {
    local python=$1 postgres=${2:-0} pkg_config="${FIELDSYNC_PKG_CONFIG:-pkg-config}" missing=() entry package
    local module header
    local asked=0
    if command -v "$pkg_config" >/dev/null 2>&1; then
        asked=1
    else
        missing+=(pkg-config)
    fi
    # Ask once for all four; only when that fails, module by module, to name what is missing.
    if [ "$asked" = 0 ] || ! "$pkg_config" --exists sqlite3 libcurl zlib libzstd 2>/dev/null; then
        # package:pkg-config module:header (the header is looked for only when there is no pkg-config to ask)
        for entry in libsqlite3-dev:sqlite3:sqlite3.h libcurl4-openssl-dev:libcurl:curl/curl.h \
            zlib1g-dev:zlib:zlib.h libzstd-dev:libzstd:zstd.h; do
            IFS=: read -r package module header <<<"$entry"
            if [ "$asked" = 1 ]; then
                "$pkg_config" --exists "$module" 2>/dev/null || missing+=("$package")
            else
                fieldsync_has_header "$header" || missing+=("$package")
            fi
        done
    fi
    command -v git >/dev/null 2>&1 || missing+=(git)
    if [ "$python" = 1 ]; then
        if ! command -v python3 >/dev/null 2>&1; then
            missing+=(python3 python3-venv)
        elif ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
            missing+=(python3-venv)  # Debian's python3 has no ensurepip without it: `python3 -m venv` fails
        fi
    fi
    if [ "$postgres" = 1 ] && ! fieldsync_has_postgres; then
        missing+=(postgresql)
    fi
    echo "${missing[*]}"
}

# Whether PostgreSQL's server programs are where the tests' cluster helper (Tests/FieldSyncTesting) looks:
# initdb and pg_ctl on the PATH, or in /usr/lib/postgresql/*/bin (Debian's package puts them there, off the
# PATH). FIELDSYNC_INITDB, when set, is the one initdb looked for.
fieldsync_has_postgres() {
    local folder
    if [ -n "${FIELDSYNC_INITDB:-}" ]; then
        [ -x "$FIELDSYNC_INITDB" ]
        return
    fi
    command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
    for folder in /usr/lib/postgresql/*/bin; do
        [ -x "$folder/initdb" ] && [ -x "$folder/pg_ctl" ] && return 0
    done
    return 1
}

# Whether a C header is installed where the compiler looks (multiarch folders included).
fieldsync_has_header() {
    local folder
    for folder in /usr/include /usr/local/include /usr/include/*-linux-gnu; do
        [ -f "$folder/$1" ] && return 0
    done
    return 1
}

# Finds swift: on the PATH, else where a login shell would find it (/etc/profile.d/swift.sh, /opt/swift), as
# .ci/run does. Sourced, this puts it on the caller's PATH; run as a command, it says what to type.
fieldsync_find_swift() {
    local swift="${SWIFT:-swift}" sourced=$1 found
    command -v "$swift" >/dev/null 2>&1 && return 0
    if [ "$swift" = swift ]; then
        found=$(
            if [ -r /etc/profile.d/swift.sh ]; then
                set +u
                . /etc/profile.d/swift.sh >/dev/null 2>&1
            fi
            PATH="$PATH:/opt/swift/usr/bin" command -v swift 2>/dev/null
        ) || found=""
        if [ -n "$found" ]; then
            if [ "$sourced" = 1 ]; then
                export PATH="$(dirname "$found"):$PATH"
                return 0
            fi
            printf '%s\n' "swift is in $(dirname "$found"), which is not on this shell's PATH. Run" \
                "  export PATH=\"$(dirname "$found"):\$PATH\"" \
                "(or open a login shell, which reads /etc/profile.d), then the same command again." >&2
            return 2
        fi
    fi
    printf '%s\n' "swift not found (looked for '$swift' on the PATH, in /etc/profile.d/swift.sh and /opt/swift)." \
        "FieldSync needs Swift 6.1 or later: https://www.swift.org/install/linux/ (Debian 12: the tarball or" \
        "swiftly), then put its usr/bin on the PATH." >&2
    return 2
}

fieldsync_prerequisites() {
    local sourced=$1 python=0 postgres=0 missing apt_get="${FIELDSYNC_APT_GET:-apt-get}" sudo="sudo "
    shift
    case "${1:-}" in
        "") ;;
        --python) python=1 ;;
        --test) python=1 postgres=1 ;;
        --postgres) postgres=1 ;;
        *) echo "usage: scripts/prerequisites.sh [--python | --test | --postgres]" >&2; return 2 ;;
    esac
    missing=$(fieldsync_missing_packages "$python" "$postgres")
    if [ -n "$missing" ] && [ "$(id -u)" = 0 ] && [ -z "${FIELDSYNC_NO_INSTALL:-}" ] \
        && command -v "$apt_get" >/dev/null 2>&1; then
        echo "== installing what the build needs: $missing"
        # Word splitting of $missing is wanted: one argument per package.
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive "$apt_get" update \
            && DEBIAN_FRONTEND=noninteractive "$apt_get" install -y --no-install-recommends $missing \
            || echo "apt-get failed (its error is above)." >&2
        missing=$(fieldsync_missing_packages "$python" "$postgres")
    fi
    if [ -n "$missing" ]; then
        [ "$(id -u)" = 0 ] && sudo=""
        printf 'Missing packages: %s\n%sapt-get install -y %s\n' "$missing" "$sudo" "$missing" >&2
        return 2
    fi
    fieldsync_find_swift "$sourced"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    fieldsync_prerequisites 0 "$@"
    exit
else
    fieldsync_prerequisites 1 "$@"
fi
