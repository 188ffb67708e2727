#!/usr/bin/env bash
# bench/run-all.sh turns what the benchmark programs report through bench.h
# into one table: fake bench_* programs write summary lines, and the table,
# the notes, a failing program and `--write PAGE` (which must keep the text
# outside the markers) are checked. Nothing is timed.
set -u
src=${TMPF_SOURCE_DIR:?TMPF_SOURCE_DIR not set}
passed=0 failed=0
check() { if eval "$2"; then passed=$((passed+1)); else failed=$((failed+1)); echo "FAIL: $1"; fi; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/build/bench"
printf 'CMAKE_BUILD_TYPE:STRING=Release\nCMAKE_C_COMPILER:FILEPATH=cc\n' > "$work/build/CMakeCache.txt"

# Two fake programs: "create" reports the way bench.h does, "zzz" fails.
cat > "$work/build/bench/bench_create" <<'PROG'
#!/bin/sh
printf 'H\tcreate + cleanup in /dev/shm\n' >> "$TMPF_BENCH_SUMMARY"
printf 'R\ttmpf_mkstemp\t9430.0\tbare open\t9120.0\n' >> "$TMPF_BENCH_SUMMARY"
printf 'R\ttmpf_mkstemp\t9430.0\tglibc mkostemp\t9450.0\n' >> "$TMPF_BENCH_SUMMARY"
printf 'R\twith | a bar\t2500000.0\tPython\t14.5\n' >> "$TMPF_BENCH_SUMMARY"
printf 'N\ttwo threads: 1.81x\n' >> "$TMPF_BENCH_SUMMARY"
echo "detail only in the log"
PROG
printf '#!/bin/sh\nexit 3\n' > "$work/build/bench/bench_zzz"
chmod +x "$work/build/bench/bench_create" "$work/build/bench/bench_zzz"

out=$(bash "$src/bench/run-all.sh" "$work/build/bench" 2>"$work/err")
rc=$?
check "a failing program makes the exit status 1 ($rc)" '[ $rc -eq 1 ]'
check "the header row" 'grep -qE "^\| area +\| operation +\| tmpf median +\| baseline +\| baseline median +\| tmpf / baseline \|$" <<<"$out"'
check "the section title row" 'grep -qE "^\| create +\| \*create \+ cleanup in /dev/shm\* " <<<"$out"'
check "first baseline with median and ratio" \
    'grep -qE "^\| +\| tmpf_mkstemp +\| +9\.43 us \| bare open +\| +9\.12 us \| +1\.034x \|$" <<<"$out"'
check "second baseline of the same operation on its own row" \
    'grep -qE "^\| +\| +\| +\| glibc mkostemp +\| +9\.45 us \| +0\.998x \|$" <<<"$out"'
check "| escaped, ms and ns units" \
    'grep -qE "^\| +\| with \\\\\| a bar +\| +2\.50 ms \| Python +\| +14\.5 ns \| +172413\.793x \|$" <<<"$out"'
check "the note is listed" 'grep -qx -- "- two threads: 1.81x" <<<"$out"'
check "the failure is listed" 'grep -q -- "^- bench_zzz exited with status 3" <<<"$out"'
check "the program output went to the log" 'grep -q "detail only in the log" "$work/build/bench/last-run.md"'
check "machine, date and command are given" \
    'grep -q "^Made by .bash bench/run-all.sh" <<<"$out" && grep -q "^Machine: .*cores" <<<"$out"'

printf '# Page\n\nkept above\n\n<!-- bench:begin -->\nold table\n<!-- bench:end -->\n\nkept below\n' \
    > "$work/PAGE.md"
bash "$src/bench/run-all.sh" --write "$work/PAGE.md" "$work/build/bench" >/dev/null 2>&1
check "--write keeps the text around the markers" \
    'grep -qx "kept above" "$work/PAGE.md" && grep -qx "kept below" "$work/PAGE.md"'
check "--write replaces what is between them" \
    '! grep -q "old table" "$work/PAGE.md" && grep -q "tmpf_mkstemp" "$work/PAGE.md"'
check "--write leaves one pair of markers" \
    '[ "$(grep -c "^<!-- bench:" "$work/PAGE.md")" -eq 2 ]'
check "--write leaves nothing else beside the page ($(ls "$work" | tr '\n' ' '))" \
    '[ "$(ls "$work" | grep -v -e "^build$" -e "^err$" -e "^PAGE.md$")" = "" ]'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
