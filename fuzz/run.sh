#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time on its seed corpus.
#   fuzz/run.sh [BUILD_DIR] [SECONDS]     (defaults: build-fuzz, 60)
# Build first: cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DTMPF_FUZZ=ON
#              cmake --build build-fuzz --target fuzz
# New inputs go to a scratch copy of the corpus; the repository's corpus
# stays small. Exit status: non-zero if any target found a crash.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:-build-fuzz}" && pwd)"
secs="${2:-60}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
status=0
findings="$build/fuzz-findings"
mkdir -p "$findings"
for target in fuzz_opts fuzz_template fuzz_spooled fuzz_persist; do
    bin="$build/fuzz/$target"
    if [ ! -x "$bin" ]; then
        echo "fuzz: $bin not built" >&2
        exit 2
    fi
    mkdir -p "$work/$target"
    cp "$here/corpus/$target/"* "$work/$target/"
    echo "==== $target: ${secs}s"
    if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 \
            -print_final_stats=1 -artifact_prefix="$findings/$target-" \
            "$work/$target" > "$work/$target.log" 2>&1; then
        status=1
    fi
    grep -v '^    #' "$work/$target.log" | tail -n 30
done
if ls "$findings"/* >/dev/null 2>&1; then
    echo "fuzz: inputs that failed are in $findings:" >&2
    ls "$findings" >&2
    status=1
fi
exit $status
