#!/bin/sh
# Lists what the last CTest run skipped and why (make check runs this at
# its end): whole tests CTest reports as skipped (exit status 77) and the
# skips inside tests, from their output in Testing/Temporary/LastTest.log.
# A skip is a line "SKIP: why" (shell tests) or an indented line with
# "skipped" in it (tests/harness.h prints "  skipped: why" after the
# test's "[ RUN  ] name"). Never fails: it only reports.
log=${1:-build}/Testing/Temporary/LastTest.log
[ -f "$log" ] || exit 0
awk '
    /^[0-9]+\/[0-9]+ Test: / { test = $0; sub(/^[0-9]+\/[0-9]+ Test: /, "", test); sub_ = ""; next }
    /^\[ RUN  \] / { sub_ = $NF; next }
    /^SKIP: / || (/^  / && /skipped/) {
        line = $0
        sub(/^ +/, "", line)
        sub(/^SKIP: /, "", line)
        sub(/^skipped: /, "", line)
        where = sub_ != "" ? test " / " sub_ : test
        out[++n] = "  " where ": " line
    }
    END {
        if (n == 0)
            exit
        printf "\nSkipped (%d):\n", n
        for (i = 1; i <= n; i++)
            print out[i]
    }
' "$log"
