#!/bin/bash
# The durable path of tmpf_write_atomic costs exactly two fsyncs (the file,
# then its directory), counted from outside the library by strace.
set -u
bin="${TMPF_BINARY_DIR:-build}/tests/test_persist"
if ! command -v strace >/dev/null; then
    echo "SKIP: strace not installed"; exit 77
fi
if [ ! -x "$bin" ]; then
    echo "missing $bin"; exit 1
fi
dir=$(mktemp -d /dev/shm/tmpf-strace-XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
echo old > "$dir/target"
log="$dir/strace.log"
# LeakSanitizer cannot run under ptrace: leave leak checks to the other tests.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
if ! strace -f -o "$log" -e trace=fsync,fdatasync,sync,syncfs,msync \
        "$bin" --write-atomic-durable "$dir/target" 2>/dev/null; then
    if ! strace -o /dev/null true 2>/dev/null; then
        echo "SKIP: strace cannot trace here"; exit 77
    fi
    echo "FAIL: the durable write failed"; cat "$log"; exit 1
fi
n=$(grep -cE '(fsync|fdatasync|sync|syncfs|msync)\(' "$log")
if [ "$n" != 2 ] || [ "$(cat "$dir/target")" != strace ]; then
    echo "FAIL: $n sync calls (want 2), target: $(cat "$dir/target")"
    cat "$log"; exit 1
fi
# Left nothing beside the target (and the log).
left=$(ls -A "$dir" | grep -v -e '^target$' -e '^strace.log$')
if [ -n "$left" ]; then
    echo "FAIL: left behind: $left"; exit 1
fi
grep -E 'sync\(' "$log"
echo "1 passed, 0 failed"
