#!/usr/bin/env bash
# Runs every benchmark program of a build (bench/bench_<area>.c, one per
# area) and prints ONE table: operation, tmpf's median, each baseline's
# median and the ratio tmpf / baseline, grouped by area, with the machine,
# the date and the command. Each program's own output (more tables, the
# details) goes to BUILD/bench/last-run.md.
#
#   bash bench/run-all.sh BUILD/bench            print the table
#   bash bench/run-all.sh --write PAGE BUILD/bench
#       also put it into PAGE between its lines "<!-- bench:begin -->" and
#       "<!-- bench:end -->" (the rest of PAGE is left as it is; a PAGE
#       without them is created or replaced by a bare page)
#
# `make bench` and `make bench-doc` build Release in build-release/ and call
# this. The programs append their rows to $TMPF_BENCH_SUMMARY (bench.h).
set -u
usage="usage: run-all.sh [--write PAGE] BUILD_DIR/bench"
write=
while [ $# -gt 0 ]; do
    case $1 in
        --write) write=${2:?$usage}; shift 2 ;;
        --write=*) write=${1#--write=}; shift ;;
        -h | --help) echo "$usage"; exit 0 ;;
        --) shift; break ;;
        -*) echo "run-all.sh: unknown option '$1'" >&2; echo "$usage" >&2; exit 2 ;;
        *) break ;;
    esac
done
[ $# -eq 1 ] || { echo "$usage" >&2; exit 2; }
dir=$(cd "$1" 2>/dev/null && pwd) || { echo "run-all.sh: no directory $1" >&2; exit 2; }
build=$(dirname "$dir")
src=$(cd "$(dirname "$0")/.." && pwd)
command=${TMPF_BENCH_COMMAND:-bash bench/run-all.sh${write:+ --write $write} $1}

work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT

# The programs, in the order of the library's concepts; new areas last.
progs=()
for area in create file spooled rmtree dir persist scope; do
    [ -x "$dir/bench_$area" ] && progs+=("$dir/bench_$area")
done
for prog in "$dir"/bench_*; do
    [ -x "$prog" ] && [ -f "$prog" ] || continue
    case " ${progs[*]} " in *" $prog "*) ;; *) progs+=("$prog") ;; esac
done
[ ${#progs[@]} -gt 0 ] || { echo "run-all.sh: no bench_* programs in $dir" >&2; exit 2; }

cache_get() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" 2>/dev/null; }
build_type=$(cache_get CMAKE_BUILD_TYPE)
cc=$(cache_get CMAKE_C_COMPILER)
if [ "$build_type" != Release ]; then
    echo "run-all.sh: warning: $build is a '${build_type:-unknown}' build, not Release" \
         "(make bench builds Release in build-release/)" >&2
fi

load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
t0=$(date +%s)
log="$dir/last-run.md"
: >"$log"
status=0
for prog in "${progs[@]}"; do
    name=$(basename "$prog")
    printf 'run-all.sh: %-16s ' "$name" >&2
    s=$(date +%s)
    TMPF_BENCH_SUMMARY="$work/$name.tsv" "$prog" >>"$log" 2>&1
    rc=$?
    echo "$(($(date +%s) - s)) s" >&2
    if [ $rc -ne 0 ]; then
        printf 'N\t%s exited with status %d (its output: %s)\n' "$name" $rc "$log" \
            >>"$work/$name.tsv"
        status=1
    fi
done
elapsed=$(($(date +%s) - t0))
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)

# One table from the summaries: a row per (operation, baseline); the area,
# the section title, the operation and tmpf's median are shown only where
# they change.
table() {
    for prog in "${progs[@]}"; do
        name=$(basename "$prog")
        [ -f "$work/$name.tsv" ] || continue
        awk -v area="${name#bench_}" 'BEGIN { FS = "\t" } { print area "\t" $0 }' \
            "$work/$name.tsv"
    done | awk '
        BEGIN { FS = "\t"; n = 0 }
        function esc(s) { gsub(/\|/, "\\|", s); return s }
        function fmt(ns) {
            if (ns >= 1e6) return sprintf("%.2f ms", ns / 1e6)
            if (ns >= 1e3) return sprintf("%.2f us", ns / 1e3)
            return sprintf("%.1f ns", ns)
        }
        function row(a, b, c, d, e, f) {
            n++; cell[n,1] = a; cell[n,2] = b; cell[n,3] = c
            cell[n,4] = d; cell[n,5] = e; cell[n,6] = f
            if (a == last_area) cell[n,1] = ""; else last_area = a
        }
        $2 == "H" { row($1, "*" esc($3) "*", "", "", "", ""); op = ""; next }
        $2 == "R" {
            key = $3 "\t" $4
            show = (key != op); op = key
            ratio = ($6 > 0 && $4 > 0) ? sprintf("%.3fx", $4 / $6) : "-"
            row($1, show ? esc($3) : "", show ? fmt($4) : "", esc($5), fmt($6), ratio)
            next
        }
        $2 == "N" { notes[++nn] = esc($3); next }
        END {
            split("area|operation|tmpf median|baseline|baseline median|tmpf / baseline", h, "|")
            for (j = 1; j <= 6; j++) w[j] = length(h[j])
            for (i = 1; i <= n; i++)
                for (j = 1; j <= 6; j++)
                    if (length(cell[i,j]) > w[j]) w[j] = length(cell[i,j])
            line = "|"
            for (j = 1; j <= 6; j++) line = line sprintf(" %-" w[j] "s |", h[j])
            print line
            line = "|"
            for (j = 1; j <= 6; j++) {
                d = ""; for (k = 0; k < w[j]; k++) d = d "-"
                if (j == 3 || j == 5 || j == 6) d = substr(d, 2) ":"
                line = line " " d " |"
            }
            print line
            for (i = 1; i <= n; i++) {
                line = "|"
                for (j = 1; j <= 6; j++)
                    line = line sprintf(" %" ((j == 3 || j == 5 || j == 6) ? "" : "-") w[j] "s |", cell[i,j])
                print line
            }
            if (nn) { print ""; for (i = 1; i <= nn; i++) print "- " notes[i] }
        }'
}

python=$(python3 --version 2>&1) || python="python3 not installed: no Python rows"
libc=$(getconf GNU_LIBC_VERSION 2>/dev/null) || libc="C library: $(ldd --version 2>&1 | head -n 1)"
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
commit=$(git -C "$src" describe --always --dirty 2>/dev/null || echo unknown)
{
    echo "Made by \`$command\` on $started (tmpf commit $commit, ${build_type:-unknown} build,"
    echo "$($cc --version 2>/dev/null | head -n 1), $libc; $python)."
    echo "Machine: $(uname -srm), $(nproc) cores${cpu:+ ($cpu)}, load average $load_before"
    echo "before and $load_after after. Files in ${TMPF_BENCH_DIR:-/dev/shm}."
    echo "Total run time: $((elapsed / 60)) min $((elapsed % 60)) s."
    echo
    echo "Medians of interleaved rounds, baselines measured in the same run;"
    echo "ratio = tmpf / baseline (below 1: tmpf is faster)."
    echo
    table
    # The per-area pages, as links from the page written (or from the source tree).
    links=
    for page in "$src"/docs/benchmarks/*.md; do
        [ -f "$page" ] || continue
        if [ -n "$write" ]; then
            rel=$(realpath -m --relative-to="$(dirname "$write")" "$page")
        else
            rel=${page#"$src"/}
        fi
        links="$links${links:+, }[$(basename "$page" .md)]($rel)"
    done
    if [ -n "$links" ]; then
        echo
        echo "Per-area pages (more runs, the bars, profiles): $links."
    fi
} >"$work/section.md"
cat "$work/section.md"

if [ -n "$write" ]; then
    begin='<!-- bench:begin -->' end='<!-- bench:end -->'
    if [ -f "$write" ] && grep -qx "$begin" "$write" && grep -qx "$end" "$write"; then
        awk -v b="$begin" -v e="$end" -v sec="$work/section.md" '
            $0 == b { print; while ((getline l < sec) > 0) print l; skip = 1; next }
            $0 == e { skip = 0 }
            !skip' "$write" >"$work/page.md"
    else
        { echo "# tmpf benchmarks"; echo; echo "$begin"; cat "$work/section.md"; echo "$end"; } \
            >"$work/page.md"
    fi
    # Replace the page atomically, with the tool when this build has it.
    if [ -x "$build/tmpf" ]; then
        "$build/tmpf" write-atomic "$write" <"$work/page.md" || status=1
    else
        cp "$work/page.md" "$write.new.$$" && mv -f "$write.new.$$" "$write" || status=1
    fi
    echo "run-all.sh: wrote $write" >&2
fi
echo "run-all.sh: each program's full output: $log" >&2
exit $status
