#!/usr/bin/env bash
# Runs every benchmark program in the given build directory, one after the
# other, and prints their tables. Usage: run-all.sh BUILD/bench
set -u
dir=${1:?usage: run-all.sh BUILD_DIR/bench}
echo "# tmpf benchmarks — $(uname -srm), $(nproc) cores, $(date -u +%Y-%m-%d)"
echo "python3: $(python3 --version 2>&1 || echo absent)"
status=0
for prog in "$dir"/bench_*; do
    [ -x "$prog" ] || continue
    "$prog" || status=1
done
exit $status
