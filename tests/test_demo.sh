#!/usr/bin/env bash
# `make demo` (examples/demo.sh) runs to the end, shows every command it
# promises, and leaves nothing in the temporary directory it was given.
set -u
bin=${TMPF_BINARY_DIR:?TMPF_BINARY_DIR not set}
passed=0 failed=0
check() { if eval "$2"; then passed=$((passed+1)); else failed=$((failed+1)); echo "FAIL: $1"; fi; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ ! -x "$bin/tmpf" ] || [ ! -x "$bin/tmpf-demo" ]; then
    check "the tmpf tool and tmpf-demo are built in $bin" false
else
    out=$(TMPDIR="$work" sh "$TMPF_SOURCE_DIR/examples/demo.sh" "$bin" 2>&1)
    rc=$?
    check "demo.sh exits 0 (exit $rc)" '[ $rc -eq 0 ]' || echo "$out"
    for want in '$ tmpf --version' 'd=$(tmpf -d)' '$ tmpf run --' 'tmpf write-atomic' '$ tmpf dir' \
                'exit status 3, also cleaned up' 'rolled over to disk' \
                'at the end of its block it is gone' 'everything in it removed'; do
        check "demo shows '$want'" '[[ "$out" == *"$want"* ]]'
    done
    check "nothing is left in \$TMPDIR ($(ls -A "$work" | tr '\n' ' '))" '[ -z "$(ls -A "$work")" ]'
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
