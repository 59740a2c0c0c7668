#!/usr/bin/env bash
# Fuzzes the sync protocol decoders (SyncRequest, SyncResponse, WireBatch, JSONReader, Gzip, Zstd, Problem) with
# libFuzzer and AddressSanitizer, bounded by a number of executions.
#
#   scripts/fuzz/run.sh                 # 2,000,000 executions (FUZZ_RUNS), from a seed corpus of real requests
#   FUZZ_RUNS=50000000 FUZZ_JOBS=2 scripts/fuzz/run.sh     # a soak
#
# It compiles the SyncCore sources the decoders are made of (no SQLite: the storage layer is not linked)
# together with scripts/fuzz/FuzzDecoder.swift, with `swiftc -sanitize=fuzzer,address`. A crash leaves its
# input in .build/fuzz/crash-*; replay it with `.build/fuzz/fuzz-decoder .build/fuzz/crash-…`.
# Exits non-zero on any crash, leak, memory error or broken round trip.
set -euo pipefail
cd "$(dirname "$0")/../.."

runs="${FUZZ_RUNS:-2000000}"
out=.build/fuzz
mkdir -p "$out/corpus" "$out/seeds"
core=Sources/SyncCore
sources=(
    "$core"/Changes/*.swift "$core"/Wire/*.swift "$core"/Wire/JSON/*.swift "$core"/Wire/Coding/*.swift
    "$core"/Clock/*.swift "$core"/Errors/*.swift "$core"/Schema/Value.swift "$core"/Storage/HistoryEntry.swift
    "$core"/Merge/Refusal.swift
    scripts/fuzz/FuzzDecoder.swift scripts/fuzz/Seeds.swift
)
binary="$out/fuzz-decoder"
if [ ! -x "$binary" ] || [ -n "$(find "${sources[@]}" -newer "$binary" 2>/dev/null)" ]; then
    echo "== compiling the fuzz target (swiftc -sanitize=fuzzer,address)"
    swiftc -O -g -sanitize=fuzzer,address -parse-as-library -module-name SyncCore -package-name fieldsync \
        -swift-version 6 -enable-upcoming-feature ExistentialAny -enable-upcoming-feature InternalImportsByDefault \
        -I Sources/CZlib -I Sources/CZstd "${sources[@]}" -o "$binary" 2> "$out/compile.log" || { cat "$out/compile.log"; exit 1; }
fi

echo "== fuzzing: $runs executions"
started=$(date +%s)
status=0
SWIFT_BACKTRACE=enable=no FIELDSYNC_FUZZ_SEEDS="$out/seeds" "$binary" -runs="$runs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" "$out/seeds" > "$out/last-run.log" 2>&1 || status=$?
grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|stat::number_of_executed_units|ERROR|SUMMARY|Fatal|deadly|Test unit written' \
    "$out/last-run.log" || true
echo "== $(( $(date +%s) - started )) s; exit status $status (log: $out/last-run.log)"
exit "$status"
