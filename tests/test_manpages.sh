#!/usr/bin/env bash
# The man pages cover the API: every symbol the shared library exports is
# named in the NAME section or a .B/.BI SYNOPSIS line of a page in man/;
# every macro, flag, enum constant and type of include/tmpf.h appears in
# some page; every page has the usual sections, its cross-references to
# tmpf pages resolve, its alias (.so) pages point at real pages, and it
# renders without groff warnings; the program in its EXAMPLES builds, runs
# and leaves nothing behind. Pages live in man/man1 and man/man3 (as
# installed, so alias pages resolve from the tree with `man -M man NAME`);
# pages directly in man/ are found and checked too (a note says to move
# them).
set -u
src=${TMPF_SOURCE_DIR:?TMPF_SOURCE_DIR not set}
bin=${TMPF_BINARY_DIR:?TMPF_BINARY_DIR not set}
man="$src/man"
header="$src/include/tmpf.h"
passed=0 failed=0
pass() { passed=$((passed+1)); }
fail() { failed=$((failed+1)); echo "FAIL: $*"; }
check() { if eval "$2"; then pass; else fail "$1"; fi; }

lib=$(ls "$bin"/libtmpf.so.* 2>/dev/null | head -n 1)
check "shared library found in $bin" '[ -n "$lib" ]'
all3=()
for p in "$man"/man3/*.3 "$man"/*.3; do
    [ -f "$p" ] && all3+=("$p")
done
check "man/man3 has pages" '[ ${#all3[@]} -gt 0 ] && ls "$man"/man3/*.3 >/dev/null 2>&1'
# A page directly in man/ is checked and installed all the same, but an
# alias among them cannot be read from the tree: say so (not a failure).
for p in "$man"/*.[13]; do
    [ -f "$p" ] && echo "NOTE: $(basename "$p") is directly in man/; its place is man/man${p##*.}/"
done
# page_file NAME SECTION: the file of a page, in man/manS/ or man/.
page_file() {
    if [ -f "$man/man$2/$1.$2" ]; then echo "$man/man$2/$1.$2"; else echo "$man/$1.$2"; fi
}

# Pages with content, and alias pages (a single .so line).
pages=() aliases=()
for p in "${all3[@]}"; do
    if grep -q '^\.so ' "$p" && [ "$(grep -cv '^\.so \|^\.\\"' "$p")" -eq 0 ]; then
        aliases+=("$p")
    else
        pages+=("$p")
    fi
done

# Words of the NAME section and of .B/.BI lines inside SYNOPSIS.
named=$(awk '
    /^\.SH/ { sec = $0; sub(/^\.SH +/, "", sec); gsub(/"/, "", sec); next }
    sec == "NAME" { print; next }
    sec == "SYNOPSIS" && /^\.BI? / { print }
' "${pages[@]}" | grep -oE '[A-Za-z_][A-Za-z0-9_]*' | sort -u)
everything=$(cat "${pages[@]}" | grep -oE '[A-Za-z_][A-Za-z0-9_]*' | sort -u)
has_word() { grep -qx -- "$2" <<<"$1"; }

# 1. Every exported symbol is named in NAME or a SYNOPSIS line.
exported=""
[ -n "$lib" ] && exported=$(nm -D --defined-only "$lib" |
    awk '$2 ~ /^[TDBRWV]$/ && $3 !~ /^_(init|fini)$/ {print $3}' | sort -u)
n_exported=$(grep -c . <<<"$exported")
check "nm found the exported API ($n_exported symbols)" '[ "$n_exported" -ge 39 ]'
for sym in $exported; do
    if has_word "$named" "$sym"; then pass; else fail "exported $sym is not in any NAME or SYNOPSIS"; fi
done

# 2. Every public macro, flag, enum constant and type of tmpf.h appears in
#    some page. (TMPF_H is the include guard, TMPF_BUILDING_SHARED a build
#    switch of the library itself.)
macros=$(grep -oE '\bTMPF_[A-Z0-9_]+\b' "$header" | grep -vx 'TMPF_H\|TMPF_BUILDING_SHARED' | sort -u)
types=$(grep -oE '\b(typedef (struct|enum) tmpf_[a-z_]+|\} tmpf_[a-z_]+;)' "$header" |
    grep -oE 'tmpf_[a-z_]+' | sort -u)
check "the header parse found the flags and types" \
    '[ $(grep -c . <<<"$macros") -ge 20 ] && [ $(grep -c . <<<"$types") -ge 8 ]'
for m in $macros $types; do
    if has_word "$everything" "$m"; then pass; else fail "$m (tmpf.h) is in no man page"; fi
done

# 3. Every page has the sections a reader looks for.
for p in "${pages[@]}"; do
    for s in NAME SYNOPSIS DESCRIPTION "RETURN VALUE" ERRORS NOTES EXAMPLES "SEE ALSO"; do
        if grep -q "^\.SH \"\?$s\"\?$" "$p"; then pass; else fail "$(basename "$p") has no $s section"; fi
    done
    check "$(basename "$p") starts with .TH" 'head -n 5 "$p" | grep -q "^\.TH "'
done

# 4. References to tmpf pages in section 3 resolve; alias pages point at
#    real pages.
refs=$(grep -ohE '^\.BR (libtmpf|tmpf_[a-z_]+) \(3\)' "${pages[@]}" | awk '{print $2}' | sort -u)
for r in $refs; do
    if [ -f "$(page_file "$r" 3)" ]; then pass; else fail "reference $r(3) has no page"; fi
done
for a in "${aliases[@]}"; do
    target=$(sed -n 's/^\.so man3\///p' "$a")
    tfile=$(page_file "${target%.3}" 3)
    if [ -n "$target" ] && [ -f "$tfile" ] && ! grep -q '^\.so ' "$tfile"; then
        pass
    else
        fail "$(basename "$a"): .so target '$target' is not a page in man/"
    fi
done

# 5. Every page renders without a groff warning; the aliases render from a
#    man3/ layout, the way man(1) reads them once installed.
if command -v groff >/dev/null 2>&1; then
    work=$(mktemp -d)
    trap 'rm -rf "$work" "${ex:-}"' EXIT
    mkdir "$work/man3"
    cp "${all3[@]}" "$work/man3/"
    for p in "${all3[@]}"; do
        out=$(cd "$work" && groff -man -Tascii -ww -z "man3/$(basename "$p")" 2>&1)
        if [ -z "$out" ]; then pass; else fail "$(basename "$p") renders with warnings: $out"; fi
    done
    if command -v man >/dev/null 2>&1; then
        for p in "${pages[@]}"; do
            out=$(MANWIDTH=80 man -l "$p" 2>&1 >/dev/null)
            if [ -z "$out" ]; then pass; else fail "man -l $(basename "$p"): $out"; fi
        done
        # From the source tree, as the README says: every page and alias by
        # name, and an alias by file from inside man/.
        for p in "$man"/man3/*.3 "$man"/man1/*.1; do
            [ -f "$p" ] || continue
            n=$(basename "$p") sec=${p##*.}
            out=$(cd "$src" && MANWIDTH=80 man -M man "$sec" "${n%.*}" 2>&1 >/dev/null)
            if [ -z "$out" ]; then pass; else fail "man -M man $sec ${n%.*}: $out"; fi
        done
        for a in "${aliases[@]}"; do
            case $a in "$man"/man3/*) ;; *) continue ;; esac
            out=$(cd "$man" && MANWIDTH=80 man -l "man3/$(basename "$a")" 2>&1 >/dev/null)
            if [ -z "$out" ]; then pass; else fail "cd man && man -l man3/$(basename "$a"): $out"; fi
        done
    fi
else
    echo "SKIP: groff is not installed; rendering not checked (apt-get install groff-base)"
fi

# 6. The program in each page's EXAMPLES builds against the library, runs
#    successfully, and leaves nothing in the temporary directory.
archive="$bin/libtmpf.a"
. "$TMPF_SOURCE_DIR/tests/build_cc.sh"
if [ -f "$archive" ] && command -v "$cc" >/dev/null 2>&1; then
    ex=$(mktemp -d)
    trap 'rm -rf "${work:-}" "$ex"' EXIT
    for p in "${pages[@]}"; do
        name=$(basename "$p" .3)
        awk '/^\.SH/ { sec = $2 }
             sec == "EXAMPLES" && /^\.EX/ { inside = 1; next }
             sec == "EXAMPLES" && /^\.EE/ { exit }
             inside { print }' "$p" |
            sed 's/\\e/\\/g; s/\\-/-/g; s/\\(aq/'"'"'/g; s/\\(dq/"/g; s/\\&//g' >"$ex/$name.c"
        grep -q 'main(' "$ex/$name.c" || { fail "$name.3: EXAMPLES has no program"; continue; }
        if ! out=$("$cc" "${ccflags[@]}" "$ex/$name.c" "$archive" -lpthread \
                   -o "$ex/$name" 2>&1); then
            fail "$name.3: the EXAMPLES program does not build:"; echo "$out"
            continue
        fi
        mkdir -p "$ex/tmp_$name" "$ex/run_$name"
        if out=$(cd "$ex/run_$name" && TMPDIR="$ex/tmp_$name" "$ex/$name" 2>&1); then
            pass
        else
            fail "$name.3: the EXAMPLES program failed:"; echo "$out"
        fi
        left=$(ls -A "$ex/tmp_$name")
        if [ -z "$left" ]; then pass; else fail "$name.3: the EXAMPLES program left $left behind"; fi
    done
else
    echo "SKIP: no $archive or no C compiler; EXAMPLES programs not built"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
