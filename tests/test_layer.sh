#!/usr/bin/env bash
# The platform layer is one way (issue 18, SPEC section 7):
#  1. the portable files (src/*.c) include only C standard headers and the
#     library's own; system headers (<fcntl.h>, <unistd.h>, <pthread.h>,
#     <sys/...>, ...) belong to src/unix/;
#  2. they call no POSIX function directly (a list of the usual suspects),
#     and spell no path separator ('/' or "/": TMPF__OS_SEP, os_path.h);
#  3. src/unix/ never calls into a portable file by name: it may use only
#     the tmpf__os_* layer, the allocation seam (tmpf__malloc, ...) and what
#     it is handed (callbacks), never e.g. file.c's tmpf__file_*_raw.
#  4. The tool's portable files (tools/*.c and tools/*.h but os_unix.c and
#     os_win.c, its system part behind tools/tool_os.h) include only C
#     standard headers, <getopt.h> (getopt_long: glibc, musl, the BSDs and
#     mingw-w64 have it), <tmpf.h> and the tool's own "..." headers; and
#     call nothing tool_os.h stands for: no POSIX call (the list of rule 2
#     and fork, exec*, waitpid, kill, signal, sigaction, realpath, opendir,
#     isatty, setenv, ...), no Windows API (CamelCase calls) nor C runtime
#     extension (_setmode, _wfopen, ...), and not the C library's getenv,
#     strerror and remove, whose tool_os_getenv, tool_os_strerror and
#     tool_os_remove give UTF-8 and msvcrt's missing texts on Windows. The
#     rest of the C library (stdio, strings, malloc, strtoul) is theirs.
# Files still being moved are listed in DEFERRED with what is left in them
# (docs/PORTABILITY.md); a new file gets no exemption.
set -u
src="${TMPF_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}/src"
passed=0 failed=0
check() { if eval "$2"; then passed=$((passed+1)); else failed=$((failed+1)); echo "FAIL: $1"; fi; }

# Deferred: none left (persist.c was the last, moved in issue 18).
DEFERRED=""
# C11 standard headers (and <stdatomic.h>, <stdbool.h>, ... among them).
STD="assert complex ctype errno fenv float inttypes iso646 limits locale math
setjmp signal stdalign stdarg stdatomic stdbool stddef stdint stdio stdlib
stdnoreturn string tgmath threads time uchar wchar wctype"
# POSIX calls a portable file must reach through the layer instead.
CALLS='\b(open|openat|close|read|write|pread|pwrite|lseek|fsync|fdatasync|ftruncate|unlink|unlinkat|rmdir|mkdir|mkdirat|rename|renameat|link|linkat|stat|lstat|fstat|fstatat|fchmod|chmod|getpid|getuid|geteuid|getcwd|dup|dup2|fcntl|flock|sched_yield|pthread_[a-z_]+|getrandom|getentropy|madvise|mmap)\('

is_deferred() { case " $DEFERRED " in *" $1 "*) return 0 ;; esac; return 1; }
is_std() { case " $(echo $STD) " in *" $1 "*) return 0 ;; esac; return 1; }

checked=0
for f in "$src"/*.c; do
    name=$(basename "$f")
    if is_deferred "$name"; then
        continue
    fi
    checked=$((checked+1))
    bad=""
    for h in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*<\([^>]*\)\.h>.*/\1/p' "$f"); do
        is_std "$h" || bad="$bad <$h.h>"
    done
    check "$name includes no system header (found:$bad)" '[ -z "$bad" ]'
    # Comments are skipped: /* ... */ on one line, and lines whose first
    # non-blank is / or * (the body of a block comment).
    calls=$(sed -E 's#/\*.*\*/##g' "$f" | grep -vE '^[[:space:]]*(/\*|\*)' |
            grep -oE "$CALLS" | sort -u | tr '\n' ' ')
    check "$name calls no system function directly (found: $calls)" '[ -z "$calls" ]'
    # Path syntax is the platform's (src/unix/os_path.h): no '/' literal.
    seps=$(sed -E 's#/\*.*\*/##g' "$f" | grep -vE '^[[:space:]]*(/\*|\*)' |
           grep -cE "'/'|\"/\"")
    check "$name spells no separator itself ($seps)" '[ "$seps" -eq 0 ]'
done
check "the portable files were found ($checked)" '[ "$checked" -ge 10 ]'

# The deferred files must exist (so this list is cut when they are done).
for name in $DEFERRED; do
    check "deferred file $name exists (else drop it from DEFERRED)" '[ -f "$src/$name" ]'
done

# One way: platform code calls only layer functions and what it is handed
# (src/win/ also its own tmpf__win_* helpers of src/win/win.h).
for f in "$src"/unix/*.c "$src"/win/*.c; do
    [ -f "$f" ] || continue
    name=$(basename "$(dirname "$f")")/$(basename "$f")
    up=$(grep -oE '\btmpf__[a-z_]+\(' "$f" | tr -d '(' | sort -u |
         grep -vE '^tmpf__(os_|win_|test_|malloc$|calloc$|realloc$|strdup$|free_wiped$|wipe$)' |
         tr '\n' ' ')
    check "$name calls nothing portable by name (found: $up)" '[ -z "$up" ]'
done
# tmpf__win_* belongs to src/win/ alone.
for f in "$src"/*.c "$src"/unix/*.c; do
    if grep -qE '\btmpf__win_' "$f"; then
        check "$(basename "$f") uses no src/win/ helper" false
    fi
done

# 4. The tool (tools/).
tools="$(dirname "$src")/tools"
TOOL_CALLS="${CALLS%)\\(}"'|secure_getenv|getenv|strerror|strerror_r|remove|realpath|fork|vfork|exec[lvpe]*|posix_spawnp?|waitpid|wait|kill|signal|sigaction|sigprocmask|raise|system|opendir|readdir|closedir|isatty|fileno|fdopen|pipe|access|setenv|putenv|unsetenv|_[a-z][a-z0-9_]*|[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*)\('
# The calls of rule 4 in a file (comments skipped as above, and string
# literals: the help texts name system calls).
tool_calls() {
    sed -E 's#/\*.*\*/##g; s#"([^"\\]|\\.)*"#""#g' "$1" | grep -vE '^[[:space:]]*(/\*|\*)' |
        grep -oE "$TOOL_CALLS" | sort -u | tr '\n' ' '
}
# The rule catches what it is for: a file that breaks it is caught.
probe=$(mktemp "${TMPDIR:-/tmp}/tmpf-layer.XXXXXX")
printf 'int f(void)\n{\n    return unlink(getenv("X")) + _setmode(0, 0) + CreateFileW(0) + strlen("a");\n}\n' >"$probe"
found=$(tool_calls "$probe")
rm -f "$probe"
check "rule 4 finds unlink, getenv, _setmode, CreateFileW, not strlen (found: $found)" \
    '[ "$found" = "CreateFileW( _setmode( getenv( unlink( " ]'
tchecked=0
for f in "$tools"/*.c "$tools"/*.h; do
    name=tools/$(basename "$f")
    case $name in tools/os_unix.c | tools/os_win.c) continue ;; esac
    tchecked=$((tchecked+1))
    bad=""
    for h in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*<\([^>]*\)\.h>.*/\1/p' "$f"); do
        is_std "$h" || [ "$h" = getopt ] || [ "$h" = tmpf ] || bad="$bad <$h.h>"
    done
    check "$name includes no system header (found:$bad)" '[ -z "$bad" ]'
    calls=$(tool_calls "$f")
    check "$name calls nothing tool_os.h wraps (found: $calls)" '[ -z "$calls" ]'
done
check "the tool's portable files were found ($tchecked)" '[ "$tchecked" -ge 8 ]'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
