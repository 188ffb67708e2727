#!/usr/bin/env bash
# The documents hold together: CHANGELOG.md's newest release is the version
# of tmpf.h, CMake, tmpf_version() (through `tmpf --version`) and tmpf(1);
# every relative link in the Markdown files leads to a file or directory;
# every man page the README names exists; docs/BENCHMARKS.md has its
# generated table (bench/run-all.sh --write) and links every per-area page.
set -u
src=${TMPF_SOURCE_DIR:?TMPF_SOURCE_DIR not set}
passed=0 failed=0
check() { if eval "$2"; then passed=$((passed+1)); else failed=$((failed+1)); echo "FAIL: $1"; fi; }

# ---- one version everywhere
changelog=$(sed -n 's/^## \[\([0-9][0-9.]*\)\] - [0-9]\{4\}-[0-9][0-9]-[0-9][0-9]$/\1/p' \
            "$src/CHANGELOG.md" 2>/dev/null | head -n 1)
header=$(sed -n 's/^#define TMPF_VERSION_STRING "\(.*\)"$/\1/p' "$src/include/tmpf.h")
cmake=$(sed -n 's/^project(tmpf VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
tmpf1="$src/man/man1/tmpf.1"
[ -f "$tmpf1" ] || tmpf1="$src/man/tmpf.1"
manpage=$(sed -n 's/^\.TH TMPF 1 [^ ]* "tmpf \([^"]*\)".*/\1/p' "$tmpf1")
check "CHANGELOG.md has a dated release ($changelog)" '[ -n "$changelog" ]'
check "CHANGELOG.md has an Unreleased section" 'grep -qx "## \[Unreleased\]" "$src/CHANGELOG.md"'
check "tmpf.h says $header, CHANGELOG.md $changelog" '[ "$header" = "$changelog" ]'
check "CMakeLists.txt says $cmake, CHANGELOG.md $changelog" '[ "$cmake" = "$changelog" ]'
check "tmpf.1 says $manpage, CHANGELOG.md $changelog" '[ "$manpage" = "$changelog" ]'
if [ -n "${TMPF_TEST_TOOL:-}" ] && [ -x "$TMPF_TEST_TOOL" ]; then
    tool=$("$TMPF_TEST_TOOL" --version | head -n 1)
    check "tmpf --version says '$tool', CHANGELOG.md $changelog" '[ "$tool" = "tmpf $changelog" ]'
fi

# ---- relative links in the Markdown files resolve
for md in "$src"/*.md "$src"/docs/*.md "$src"/docs/benchmarks/*.md; do
    [ -f "$md" ] || continue
    base=$(dirname "$md")
    # [text](target) with a target that is not a URL or a pure anchor
    for target in $(grep -oE '\]\([^)[:space:]]+\)' "$md" | sed 's/^](//; s/)$//' |
                    grep -vE '^(https?|mailto):|^#' | sed 's/#.*//' | sort -u); do
        check "${md#$src/} links to $target, which exists" '[ -e "$base/$target" ]'
    done
done

# ---- man pages named in the README
for page in $(grep -oE '`(lib)?tmpf(_[a-z_]+)?\([13]\)`' "$src/README.md" | tr -d '`' | sort -u); do
    name=${page%(*} sec=${page#*(}; sec=${sec%)}
    check "README names $page, which exists" \
        '[ -f "$src/man/man$sec/$name.$sec" ] || [ -f "$src/man/$name.$sec" ]'
done

# ---- docs/BENCHMARKS.md
bm="$src/docs/BENCHMARKS.md"
check "docs/BENCHMARKS.md has the generated section" \
    'grep -qx "<!-- bench:begin -->" "$bm" && grep -qx "<!-- bench:end -->" "$bm"'
check "docs/BENCHMARKS.md has the table" \
    'grep -qE "^\| area +\| operation +\| tmpf median +\| baseline +\| baseline median +\| tmpf / baseline \|$" "$bm"'
check "docs/BENCHMARKS.md says which command made it" 'grep -q "^Made by \`make bench" "$bm"'
for page in "$src"/docs/benchmarks/*.md; do
    [ -f "$page" ] || continue
    check "docs/BENCHMARKS.md links benchmarks/$(basename "$page")" \
        'grep -qF "(benchmarks/$(basename "$page"))" "$bm"'
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
