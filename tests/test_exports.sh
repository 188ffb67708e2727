#!/usr/bin/env bash
# The shared library exports exactly the public API: every TMPF_API function
# of include/tmpf.h, and nothing else but tmpf_-prefixed names.
set -u
lib=$(ls "$TMPF_BINARY_DIR"/libtmpf.so.* 2>/dev/null | head -n 1)
header="$TMPF_SOURCE_DIR/include/tmpf.h"
passed=0 failed=0
check() { if eval "$2"; then passed=$((passed+1)); else failed=$((failed+1)); echo "FAIL: $1"; fi; }

# A Windows build (the top CMakeLists.txt runs this there too): tmpf.dll's
# export table, read with the cross objdump (TMPF_OBJDUMP).
dll="$TMPF_BINARY_DIR/tmpf.dll"
if [ -f "$dll" ]; then
    lib=$dll
    exported=$("${TMPF_OBJDUMP:-objdump}" -p "$dll" |
               sed -n '/\[Ordinal\/Name Pointer\] Table/,/^$/p' | awk '/^[[:space:]]+\[ *[0-9]+\]/{print $NF}' | sort -u)
else
    # _init/_fini come from the C runtime's crt files on some toolchains (musl).
    exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRW]$/ && $3 !~ /^_(init|fini)$/ {print $3}' | sort -u)
fi
declared=$(sed -n '/^TMPF_API/,/;/p' "$header" | tr '\n' ' ' | grep -oE '\btmpf_[a-z_]+ *\(' | tr -d ' (' | sort -u)

check "library found" '[ -n "$lib" ]'
if [ "$lib" != "$dll" ]; then
    check "SONAME carries the major version" 'readelf -d "$lib" | grep -q "SONAME.*libtmpf.so.0"'
fi
stray=$(comm -23 <(echo "$exported") <(echo "$declared"))
check "no symbol exported beyond the header ($stray)" '[ -z "$stray" ]'
missing=$(comm -13 <(echo "$exported") <(echo "$declared"))
check "every declared function exported ($missing)" '[ -z "$missing" ]'
check "the header parse found the API (39 functions)" '[ $(echo "$declared" | wc -l) -ge 39 ]'
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
