#!/usr/bin/env bash
# The README's first C example compiles against the library and runs: the
# file it names exists while it runs and is gone afterwards.
set -u
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
. "$TMPF_SOURCE_DIR/tests/build_cc.sh"
check() { if eval "$2"; then passed=$((passed+1)); else failed=$((failed+1)); echo "FAIL: $1"; fi; }

awk '/^```c$/ {on=1; next} /^```$/ && on {exit} on' "$TMPF_SOURCE_DIR/README.md" > "$work/example.c"
check "README has a C example" '[ -s "$work/example.c" ]'
check "it compiles with -Wall -Werror" \
    '"$cc" "${ccflags[@]}" "$work/example.c" \
        "$TMPF_BINARY_DIR/libtmpf.a" -lpthread -o "$work/example" 2>"$work/cc.err" || { cat "$work/cc.err"; false; }'
out=$(TMPDIR="$work" "$work/example" 2>&1)
check "it runs and prints its line ($out)" '[[ "$out" == "hello from $work/tmp"*".txt" ]]'
check "its temporary file is gone" '[ -z "$(ls -A "$work" | grep -v -e "^example" -e "^cc.err$")" ]'
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
