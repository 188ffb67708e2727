#!/usr/bin/env bash
# The C in docs/python-migration.md stays true to include/tmpf.h: every
# ```c block compiles (each is top-level code: includes, declarations and
# function definitions) with the project's warnings as errors, and every
# example program and man page the guide links to exists.
set -u
src=${TMPF_SOURCE_DIR:?TMPF_SOURCE_DIR not set}
doc="$src/docs/python-migration.md"
cc=${CC:-cc}
passed=0 failed=0
pass() { passed=$((passed+1)); }
fail() { failed=$((failed+1)); echo "FAIL: $*"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ ! -f "$doc" ]; then
    fail "$doc is missing"
else
    # Split the ```c blocks into snippet_N.c, remembering their first line.
    awk -v dir="$work" '
        /^```c[ \t]*$/ { n++; inside = 1; file = sprintf("%s/snippet_%02d.c", dir, n);
                         printf "#line %d \"python-migration.md\"\n", NR + 1 > file; next }
        /^```/ && inside { inside = 0; close(file); next }
        inside { print > file }
    ' "$doc"
    count=$(ls "$work"/snippet_*.c 2>/dev/null | wc -l)
    if [ "$count" -ge 8 ]; then pass; else fail "expected at least 8 C blocks, found $count"; fi
    for s in "$work"/snippet_*.c; do
        [ -e "$s" ] || continue
        if out=$("$cc" -std=c11 -D_GNU_SOURCE -I"$src/include" -fsyntax-only \
                 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
                 -Wno-unused-function "$s" 2>&1); then
            pass
        else
            fail "C block $(basename "$s" .c) does not compile:"; echo "$out"
        fi
    done
    # Links to examples/ and man pages resolve.
    for ex in $(grep -oE '\(\.\./examples/[A-Za-z0-9_]+\.c\)' "$doc" | tr -d '()' | sort -u); do
        if [ -f "$src/docs/$ex" ]; then pass; else fail "the guide links to $ex, which does not exist"; fi
    done
    for pg in $(grep -oE '`man (lib)?tmpf[a-z_]*`' "$doc" | tr -d '`' | awk '{print $2}' | sort -u); do
        if [ -f "$src/man/man3/$pg.3" ] || [ -f "$src/man/$pg.3" ]; then pass; else fail "the guide mentions man $pg, which has no page"; fi
    done
    # Every call of tmpf.h is mentioned somewhere in the guide.
    for fn in $(sed -n '/^TMPF_API/,/;/p' "$src/include/tmpf.h" | tr '\n' ' ' |
                grep -oE '\btmpf_[a-z_]+ *\(' | tr -d ' (' | sort -u); do
        if grep -q "\b$fn\b" "$doc"; then pass; else fail "$fn is not in the migration guide"; fi
    done
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
