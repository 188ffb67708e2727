#!/usr/bin/env bash
# The README's first C example compiles against the library and runs: the
# file it names exists while it runs and is gone afterwards. The README's
# one-line examples of the tmpf tool run as written: each in a scratch
# directory (with the files they name: words, project.tar.gz), with the
# built tmpf first on PATH and $TMPDIR empty; each succeeds, does what its
# comment says and leaves $TMPDIR empty when its shell has exited.
set -u
# Run as a reader would: not with the flags of the make that runs the tests
# (its --no-print-directory would hide the README's make line's directory).
unset MAKEFLAGS MFLAGS MAKELEVEL
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

# ---- the tool's one-liners: the first ```sh block after "## The `tmpf` tool"
readme="$TMPF_SOURCE_DIR/README.md"
awk '/^## The `tmpf` tool/ {sec=1} sec && /^```sh$/ {on=1; next} on && /^```$/ {exit} on' \
    "$readme" > "$work/cli.sh"
check "README shows the tool's commands" '[ "$(grep -c . "$work/cli.sh")" -ge 5 ]'
for want in '^f=$(tmpf)' 'tmpf -d' 'tmpf run -- ' 'tmpf run -f' 'tmpf write-atomic' 'tmpf dir' 'tmpf sweep'; do
    check "README shows '$want'" 'grep -q -e "$want" "$work/cli.sh"'
done
tool=${TMPF_TEST_TOOL:-$TMPF_BINARY_DIR/tmpf}
if [ ! -x "$tool" ]; then
    check "the tmpf tool is built ($tool)" false
else
    n=0
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        n=$((n + 1))
        cwd="$work/cli$n" tmp="$work/cli$n.tmp"
        mkdir "$cwd" "$tmp"
        printf 'pear\napple\npear\nfig\n' > "$cwd/words"
        mkdir "$work/project$n"
        printf 'all:\n\t@echo built the project\n' > "$work/project$n/Makefile"
        tar -czf "$cwd/project.tar.gz" -C "$work/project$n" Makefile
        case $line in 'tmpf sweep'*) # an orphan of a dead run, and a live one
            : > "$cwd/myjob-abcd1234" && touch -d '2 hours ago' "$cwd/myjob-abcd1234"
            : > "$cwd/myjob-young123" ;;
        esac
        # The line, then a look at $TMPDIR while its shell still runs.
        out=$(cd "$cwd" && PATH="$(dirname "$tool"):$PATH" TMPDIR="$tmp" \
              sh -ec "$line"'
ls -A "$TMPDIR" > ../cli'$n'.during' 2>&1)
        rc=$?
        check "README line $n exits 0: $line (exit $rc: $out)" '[ $rc -eq 0 ]'
        check "README line $n leaves \$TMPDIR empty ($(ls -A "$tmp" | tr '\n' ' '))" \
            '[ -z "$(ls -A "$tmp")" ]'
        during=$(cat "$work/cli$n.during" 2>/dev/null)
        case $line in
        'f=$(tmpf)'*)
            check "line $n: a file existed in \$TMPDIR until exit" \
                '[ "$(echo "$during" | grep -c "^tmp\.")" -eq 1 ]' ;;
        'd=$(tmpf -d)'*)
            check "line $n: a directory existed in \$TMPDIR until exit" \
                '[ "$(echo "$during" | grep -c "^tmp\.")" -eq 1 ]' ;;
        *report.XXXXXX*)
            made=$(ls "$cwd" | grep -E '^report\.[a-z0-9_]{6}\.csv$')
            check "line $n: made report.XXXXXX.csv in . ($made), printed ($out), mode 600" \
                '[ -n "$made" ] && [ "$out" = "./$made" ] && [ "$(stat -c %a "$cwd/$made")" = 600 ]' ;;
        *make*)
            check "line $n: built in \$TMPDIR, removed after ($out)" \
                '[[ "$out" == *"built the project"* ]] && [[ "$out" == *"$tmp/tmp"* ]] && [ -z "$during" ]' ;;
        *uniq*)
            check "line $n: printed the duplicate ($out)" '[ "$out" = pear ] && [ -z "$during" ]' ;;
        *write-atomic*)
            check "line $n: words sorted and unique ($(tr '\n' ' ' < "$cwd/words"))" \
                '[ "$(tr "\n" " " < "$cwd/words")" = "apple fig pear " ] && [ "$(ls "$cwd")" = "project.tar.gz
words" ]' ;;
        'tmpf dir --explain'*)
            check "line $n: \$TMPDIR taken, explained ($out)" \
                '[ "$(head -n 1 <<<"$out")" = "\$TMPDIR=$tmp" ] && [ "$(tail -n 1 <<<"$out")" = "$tmp: taken" ]' ;;
        'tmpf dir'*)
            check "line $n: printed \$TMPDIR ($out)" '[ "$out" = "$tmp" ]' ;;
        'tmpf sweep'*)
            check "line $n: removed the old orphan only ($out)" \
                '[ "$out" = "removed $cwd/myjob-abcd1234" ] && [ -e "$cwd/myjob-young123" ]' ;;
        *)
            check "line $n has a check in tests/test_readme.sh" false ;;
        esac
    done < "$work/cli.sh"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
