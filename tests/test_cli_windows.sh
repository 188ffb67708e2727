#!/usr/bin/env bash
# tmpf.exe, the Windows build of the tool, run under Wine: mktemp mode,
# run (CreateProcessW, the MS C runtime's quoting, TMPF_PATH/TMPDIR, cleanup
# after success, failure, Ctrl-C and kill -9 (the crash guardian), exit code
# passed through, the directory locked against sweep), write-atomic on
# binary standard input, dir, sweep, publish (new TARGET; an existing one
# refused: no atomic exchange), help, version, usage errors; non-ASCII
# names on a console (UTF-16) and a pipe (UTF-8 bytes).
# Registered by tests/CMakeLists.txt in a Windows build only:
#   test_cli_windows.sh TOOL.exe EMULATOR
# EMULATOR is cmake/wine-run.sh; it prepares the Wine prefix. The cases then
# run wine themselves with the same prefix and settings, because they need
# what wine-run.sh does not give: standard input from a file, stdout and
# stderr apart. Scratch files live on /dev/shm, which Wine shows as
# Z:\dev\shm (its Z: drive is the Unix root).
set -u
TOOL=${1:?usage: test_cli_windows.sh TOOL.exe EMULATOR}
EMU=${2:?usage: test_cli_windows.sh TOOL.exe EMULATOR}
PREFIX=${TMPF_WINEPREFIX:-${WINEPREFIX:-$HOME/.cache/tmpf-wine}}
passed=0 failed=0 skipped=0

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
skip() { skipped=$((skipped + 1)); echo "SKIP: $*"; }
# check NAME COMMAND...: passes when COMMAND succeeds.
check() { local n=$1; shift; if "$@"; then pass; else fail "$n"; fi; }
matches() { [[ $1 =~ $2 ]]; } # STRING ERE
lines() { local n=0; [ -s "$1" ] && n=$(wc -l <"$1"); echo $((n)); }

command -v wine >/dev/null || { echo "SKIP: no wine"; exit 77; }
[ -f "$TOOL" ] || { echo "SKIP: $TOOL not built"; exit 77; }

W=$(mktemp -d /dev/shm/tmpf-test-cliwin.XXXXXXXX) || exit 1
trap '[ -n "${KEEP_W:-}" ] || rm -rf "$W"' EXIT

# Unix path -> Windows (Z:\...), and back (Z: and the prefix's drives).
winpath() { local p=$1; printf 'Z:%s' "${p//\//\\}"; }
unixpath() {
    local p=$1 drive rest
    drive=${p:0:1} rest=${p:2}
    rest=${rest//\\//}
    case $drive in
    Z | z) printf '%s' "$rest" ;;
    *) printf '%s/dosdevices/%s:%s' "$PREFIX" "${drive,,}" "$rest" ;;
    esac
}
# Text the program wrote: CR-LF -> LF (its stdout and stderr are in text
# mode, as on Windows).
text() { tr -d '\r' <"$1"; }

# win IN PROGRAM ARG...: PROGRAM under Wine with IN as standard input;
# stdout in $W/out, stderr in $W/err, exit status in rc. LC_ALL=C.UTF-8:
# Wine makes the UTF-16 command line from the Unix arguments by the locale.
# No TMPDIR: wineserver reads it (a Windows TMPDIR is set through cmd).
win() {
    local in=$1
    shift
    rc=0
    env -u TMPDIR -u DISPLAY WINEPREFIX="$PREFIX" WINEDEBUG=-all \
        WINEDLLOVERRIDES="mscoree,mshtml=" WINEARCH=win64 LC_ALL=C.UTF-8 \
        wine "$@" <"$in" >"$W/out" 2>"$W/err" || rc=$?
}

# ---- the emulator (it also makes the prefix and starts the server) --------
rc=0
"$EMU" "$TOOL" --version >"$W/out" 2>&1 || rc=$?
check "emulator: --version exits 0" [ $rc = 0 ]
check "emulator: --version prints the version" matches "$(text "$W/out")" '^tmpf [0-9]+\.[0-9]+\.[0-9]+$'
[ -d "$PREFIX/dosdevices/z:/dev/shm" ] || {
    echo "SKIP: Wine's Z: drive is not the Unix root in $PREFIX"
    exit 77
}

TW=$(winpath "$TOOL")
D=$W/d
mkdir "$D"
DW=$(winpath "$D")

# ---- help, version, usage errors --------------------------------------------
win /dev/null "$TOOL" --version
check "--version: 0" [ $rc = 0 ]
check "--version: one line on stdout, nothing on stderr" \
    [ "$(lines "$W/out")" = 1 -a ! -s "$W/err" ]
win /dev/null "$TOOL" help
check "help: 0" [ $rc = 0 ]
check "help: the usage" grep -q '^Usage: tmpf ' "$W/out"
win /dev/null "$TOOL" run --help
check "run --help: 0 and its usage" [ $rc = 0 ]
check "run --help: its usage" grep -q '^Usage: tmpf run ' "$W/out"
for args in "--bogus" "run --bogus" "write-atomic" "frobnicate"; do
    # shellcheck disable=SC2086 # split on purpose
    win /dev/null "$TOOL" $args
    check "'$args': exit 1" [ $rc = 1 ]
    check "'$args': one line on stderr, nothing on stdout" \
        [ "$(lines "$W/err")" = 1 -a ! -s "$W/out" ]
done

# ---- mktemp mode --------------------------------------------------------------
# TMPDIR reaches the program through cmd (not through Wine: see win).
win /dev/null cmd /c "set TMPDIR=$DW&& $TW"
p=$(text "$W/out")
check "mktemp: 0" [ $rc = 0 ]
check "mktemp: TMPDIR\\tmp.XXXXXXXXXX, backslashes only: '$p'" \
    matches "$p" "^${DW//\\/\\\\}\\\\tmp\\.[a-z0-9_]{10}$"
check "mktemp: a regular empty file" [ -f "$(unixpath "$p")" -a ! -s "$(unixpath "$p")" ]

win /dev/null cmd /c "set TMPDIR=$DW&& $TW -d"
p=$(text "$W/out")
check "mktemp -d: 0" [ $rc = 0 ]
check "mktemp -d: TMPDIR\\tmp.XXXXXXXXXX: '$p'" \
    matches "$p" "^${DW//\\/\\\\}\\\\tmp\\.[a-z0-9_]{10}$"
check "mktemp -d: a directory" [ -d "$(unixpath "$p")" ]

# Without TMPDIR: the library's choice (Wine's TEMP), absolute.
win /dev/null "$TOOL" -d
p=$(text "$W/out")
check "mktemp -d, no TMPDIR: 0" [ $rc = 0 ]
check "mktemp -d, no TMPDIR: an absolute path with backslashes: '$p'" \
    matches "$p" '^[A-Za-z]:\\[^/]*\\tmp\.[a-z0-9_]{10}$'
check "mktemp -d, no TMPDIR: a directory" [ -d "$(unixpath "$p")" ]
[ -n "$p" ] && rmdir "$(unixpath "$p")" 2>/dev/null

# UTF-8 arguments: Cyrillic and CJK in the template, the name on disk.
win /dev/null "$TOOL" -d -p "$DW" 'дир_日本XXXX'
p=$(text "$W/out")
check "mktemp UTF-8 template: 0" [ $rc = 0 ]
check "mktemp UTF-8 template: printed in UTF-8: '$p'" matches "$p" "^${DW//\\/\\\\}\\\\дир_日本[a-z0-9_]{4}$"
check "mktemp UTF-8 template: that directory" [ -d "$(unixpath "$p")" ]

# Non-ASCII names on stdout and stderr. A pipe (or a file, as above) gets
# the UTF-8 bytes; a console gets UTF-16 (WriteConsoleW), which it shows
# right whatever its code page. Under Wine a program started on a terminal
# has a console (Wine's conhost; `script` gives it a terminal), which shows
# UTF-8 bytes written to it in its code page: "дир" came out as "Ð´Ð¸Ñ".
# (LC_ALL=C.UTF-8, DISPLAY and TMPDIR unset as in win.)
wine_env() {
    env -u TMPDIR -u DISPLAY WINEPREFIX="$PREFIX" WINEDEBUG=-all \
        WINEDLLOVERRIDES="mscoree,mshtml=" WINEARCH=win64 LC_ALL=C.UTF-8 wine "$@"
}
wine_env "$TOOL" -d -p "$DW" 'пайп_XXXX' </dev/null 2>"$W/err" | cat >"$W/out"
p=$(text "$W/out")
check "mktemp, stdout a pipe: UTF-8 bytes: '$p'" matches "$p" "^${DW//\\/\\\\}\\\\пайп_[a-z0-9_]{4}$"
check "mktemp, stdout a pipe: that directory" [ -d "$(unixpath "$p")" ]
[ -n "$p" ] && rmdir "$(unixpath "$p")"
wine_env "$TOOL" dir 'кот' </dev/null 2>&1 >/dev/null | cat >"$W/err"
check "error, stderr a pipe: UTF-8 bytes" \
    [ "$(text "$W/err")" = "tmpf dir: unexpected argument 'кот' (try 'tmpf dir --help')" ]
if command -v script >/dev/null; then
    # on_terminal ARG...: tmpf.exe ARG... on a terminal; what it showed
    # (stdout and stderr), without the console's cursor escapes and CRs.
    on_terminal() {
        local cmd
        cmd=$(printf '%q ' wine_env "$TOOL" "$@")
        SHELL=/bin/bash PREFIX=$PREFIX timeout 120 script -qec \
            "$(declare -f wine_env); $cmd" /dev/null </dev/null |
            sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' | tr -d '\r'
    }
    p=$(on_terminal -d -p "$DW" 'консоль_XXXX')
    check "mktemp on a console: the name shown right: '$p'" \
        matches "$p" "^${DW//\\/\\\\}\\\\консоль_[a-z0-9_]{4}$"
    check "mktemp on a console: that directory" [ -d "$(unixpath "$p")" ]
    [ -n "$p" ] && rmdir "$(unixpath "$p")"
    e=$(on_terminal dir 'кот')
    check "error on a console: the name shown right: '$e'" \
        [ "$e" = "tmpf dir: unexpected argument 'кот' (try 'tmpf dir --help')" ]
else
    skip "output on a console (no script)"
fi

win /dev/null "$TOOL" -p "$DW" 'x/yXXX'
check "mktemp -p DIR x/yXXX (no directory x): 1" [ $rc = 1 ]
check "mktemp -p DIR x/yXXX: one line" [ "$(lines "$W/err")" = 1 ]

# ---- dir ------------------------------------------------------------------------
win /dev/null cmd /c "set TMPDIR=$DW&& $TW dir"
check "dir: 0" [ $rc = 0 ]
check "dir: \$TMPDIR" [ "$(text "$W/out")" = "$DW" ]

# ---- run ------------------------------------------------------------------------
gone() { [ -n "$1" ] && [ ! -e "$(unixpath "$1")" ]; }
# The path of --verbose's "created" line.
created() { text "$W/err" | sed -n 's/^tmpf: run: created [a-z]* //p' | head -1; }

win /dev/null "$TOOL" run -v -p "$DW" -- cmd /c echo %TMPF_PATH% %TMPDIR%
p=$(created)
check "run: 0" [ $rc = 0 ]
check "run: a directory in -p DIR: '$p'" matches "$p" "^${DW//\\/\\\\}\\\\tmp[a-z0-9_]{8}$"
check "run: TMPF_PATH and TMPDIR are the directory" [ "$(text "$W/out")" = "$p $p" ]
check "run: removed after success" gone "$p"
check "run: 'removed' said" grep -q "removed directory" "$W/err"

win /dev/null "$TOOL" run -v -p "$DW" -- cmd /c exit 7
p=$(created)
check "run, command exits 7: exit 7" [ $rc = 7 ]
check "run, command exits 7: removed" gone "$p"

# The command fills the directory (tmpf.exe -d in TMPDIR): all of it goes.
win /dev/null "$TOOL" run -v -p "$DW" -- "$TW" -d
p=$(created)
q=$(text "$W/out")
check "run tmpf -d: 0" [ $rc = 0 ]
check "run tmpf -d: the command's TMPDIR is the directory: '$q'" \
    matches "$q" "^${p//\\/\\\\}\\\\tmp\\.[a-z0-9_]{10}$"
check "run tmpf -d: removed with what the command made" gone "$p"

win /dev/null "$TOOL" run -f -v -p "$DW" -- cmd /c echo %TMPF_PATH%
p=$(created)
check "run -f: 0" [ $rc = 0 ]
check "run -f: TMPF_PATH is the file" [ -n "$p" -a "$(text "$W/out")" = "$p" ]
check "run -f: removed" gone "$p"

win /dev/null "$TOOL" run -p "$DW" -- no-such-command-here
check "run, command not found: 127" [ $rc = 127 ]
check "run, command not found: one line" [ "$(lines "$W/err")" = 1 ]
check "run, command not found: nothing left" [ -z "$(ls "$D" | grep '^tmp[a-z0-9_]\{8\}$')" ]

# Arguments reach the command as given (the MS C runtime's rules): tmpf.exe
# dir quotes an unexpected argument in its message, and exits 1.
for arg in 'a b"c\' 'x\\"y\' '' "$(printf 'tab\there')" 'кот 猫'; do
    win /dev/null "$TOOL" run -p "$DW" -- "$TW" dir "$arg"
    check "run, argument [$arg]: the command's exit 1" [ $rc = 1 ]
    check "run, argument [$arg]: arrives unchanged" \
        [ "$(text "$W/err")" = "tmpf dir: unexpected argument '$arg' (try 'tmpf dir --help')" ]
done
# A program whose path has a space.
mkdir "$W/dir with space"
cp "$TOOL" "$W/dir with space/tmpf copy.exe"
win /dev/null "$TOOL" run -p "$DW" -- "$(winpath "$W/dir with space/tmpf copy.exe")" --version
check "run, program path with spaces: 0" [ $rc = 0 ]
check "run, program path with spaces: ran" matches "$(text "$W/out")" '^tmpf [0-9]'
check "run: nothing left in DIR" [ -z "$(ls "$D" | grep '^tmp[a-z0-9_]\{8\}$')" ]

# run locks its directory (the handle it holds on it): a sweep with
# --older-than=0, run as the command, removes a stale directory of the same
# pattern beside it but not run's own; once run has ended (--keep: the
# directory stays) the same sweep removes it.
mkdir "$D/zlstale_01"
win /dev/null "$TOOL" run -v --keep --prefix=zl -p "$DW" -- \
    "$TW" sweep -v --prefix=zl --older-than=0 "$DW"
p=$(created)
check "run, sweep inside: 0" [ $rc = 0 ]
check "run, sweep inside: a directory zl + 8: '$p'" matches "$p" "^${DW//\\/\\\\}\\\\zl[a-z0-9_]{8}$"
check "run, sweep inside: the stale directory removed" [ ! -e "$D/zlstale_01" ]
check "run, sweep inside: run's own directory not removed (locked)" \
    [ "$(text "$W/out")" = "removed $DW\\zlstale_01" ]
check "run --keep: the directory still there afterwards" [ -n "$p" -a -d "$(unixpath "$p")" ]
win /dev/null "$TOOL" sweep -v --prefix=zl --older-than=0 "$DW"
check "sweep after run ended: 0" [ $rc = 0 ]
check "sweep after run ended: removes run's directory" \
    [ -n "$p" -a "$(text "$W/out")" = "removed $p" ]
check "sweep after run ended: run's directory gone" gone "$p"

# Ctrl-C: Wine turns a SIGINT of a Wine process into CTRL_C_EVENT for its
# console control handlers. tmpf gets it while its command (tmpf.exe
# write-atomic) waits for standard input (a FIFO): tmpf must live on, wait
# for the command (which ends when the FIFO closes), remove the temporary
# and exit with STATUS_CONTROL_C_EXIT (0xC000013A, whatever the command's
# code; Wine gives its low byte, 0x3A = 58, as the Unix status). (On
# Windows the command gets Ctrl-C too; here only tmpf does. Both on a
# console: the next case.)
if command -v pgrep >/dev/null && mkfifo "$W/fifo"; then
    (win "$W/fifo" "$TOOL" run -v -p "$DW" -- "$TW" write-atomic "$DW\\ctrlc.out"
     echo $rc >"$W/ctrlc.rc"
     cp "$W/err" "$W/ctrlc.err") &
    job=$!
    exec 3>"$W/fifo"
    for _ in $(seq 300); do grep -q created "$W/err" 2>/dev/null && break; sleep 0.1; done
    sleep 1 # the command started (after "created"): a lower bound, not a result
    wpid=$(pgrep -P $job | head -1) # wine, now tmpf.exe (run)
    kill -INT "$wpid" 2>/dev/null
    sleep 1
    alive=0
    kill -0 "$wpid" 2>/dev/null && alive=1
    printf 'after ctrl-c' >&3
    exec 3>&-
    wait $job
    cp "$W/ctrlc.err" "$W/err"
    p=$(created)
    check "run, Ctrl-C: tmpf lives on until the command ends" [ $alive = 1 ]
    check "run, Ctrl-C: STATUS_CONTROL_C_EXIT (58), the command's 0 notwithstanding" [ "$(cat "$W/ctrlc.rc")" = 58 ]
    check "run, Ctrl-C: the command ran to its end" [ "$(cat "$D/ctrlc.out" 2>/dev/null)" = "after ctrl-c" ]
    check "run, Ctrl-C: the temporary removed" gone "$p"
    check "run, Ctrl-C: 'removed' said" grep -q "removed directory" "$W/err"
else
    skip "run, Ctrl-C (no pgrep or mkfifo)"
fi

# kill -9 of tmpf (nothing of its own runs, as TerminateProcess): the
# guardian tmpf_crash_guard started (tmpf.exe itself, found beside it)
# removes the directory while the command (write-atomic waiting for
# standard input, a FIFO) still runs.
if command -v pgrep >/dev/null && mkfifo "$W/fifo9"; then
    rm -f "$W/err"
    # (The subshell's stderr: bash's "Killed" line.)
    (win "$W/fifo9" "$TOOL" run -v -p "$DW" -- "$TW" write-atomic "$DW\\kill9.out") 2>/dev/null &
    job=$!
    exec 3>"$W/fifo9"
    for _ in $(seq 300); do grep -q created "$W/err" 2>/dev/null && break; sleep 0.1; done
    p=$(created)
    wpid=$(pgrep -P $job | head -1) # wine, now tmpf.exe (run)
    there=0
    [ -n "$p" ] && [ -d "$(unixpath "$p")" ] && there=1
    kill -9 "$wpid" 2>/dev/null
    for _ in $(seq 100); do gone "$p" && break; sleep 0.1; done
    check "run, kill -9: the directory was made: '$p'" [ $there = 1 ]
    check "run, kill -9: the guardian removed it" gone "$p"
    printf 'after kill' >&3
    exec 3>&-
    wait $job
    # The command, orphaned, writes its file and ends.
    for _ in $(seq 100); do [ "$(cat "$D/kill9.out" 2>/dev/null)" = "after kill" ] && break; sleep 0.1; done
    check "run, kill -9: the command ran to its end" [ "$(cat "$D/kill9.out" 2>/dev/null)" = "after kill" ]
    rm -f "$D/kill9.out"
else
    skip "run, kill -9 (no pgrep or mkfifo)"
fi

# ---- run on a console: Ctrl-C typed; separators in --prefix/--suffix --------
# Ctrl-C as a user types it. script(1) gives tmpf a terminal, so Wine gives
# it a console (conhost on that terminal), shared with the command, which
# reads it (tmpf.exe write-atomic, from the console). A ^C byte written to
# the terminal: under Wine 8 the terminal stays in ISIG mode (conhost turns
# off ICANON only), so the kernel sends SIGINT to the foreground process
# group, every Wine process of the console, and Wine makes each a
# CTRL_C_EVENT: tmpf's handler and the command's (the default: it ends the
# command, with exit code 0 under Wine 8, STATUS_CONTROL_C_EXIT on
# Windows). tmpf waits for it, removes the directory and exits with
# STATUS_CONTROL_C_EXIT (Unix status 58). The command writes elsewhere ($F).
if command -v script >/dev/null; then
    E=$W/e F=$W/f
    mkdir "$E" "$F"
    cmd=$(printf '%q ' wine_env "$TOOL" run -v -p "$(winpath "$E")" -- \
        "$TW" write-atomic "$(winpath "$F")\\out")
    {
        for _ in $(seq 300); do grep -q created "$W/cc.err" 2>/dev/null && break; sleep 0.1; done
        sleep 1 # the command started (after "created"): a lower bound, not a result
        printf '\003'
        # Standard input stays open until the run ended (its EOF would
        # reach the console).
        for _ in $(seq 300); do [ -s "$W/cc.rc" ] && break; sleep 0.1; done
    } | SHELL=/bin/bash PREFIX=$PREFIX timeout 120 script -qec \
        "$(declare -f wine_env); $cmd 2>'$W/cc.err'; echo \$? >'$W/cc.rc'" /dev/null >/dev/null
    cp "$W/cc.err" "$W/err"
    p=$(created)
    check "run on a console, Ctrl-C typed: a directory was made: '$p'" [ -n "$p" ]
    check "run on a console, Ctrl-C typed: STATUS_CONTROL_C_EXIT (58)" [ "$(cat "$W/cc.rc")" = 58 ]
    check "run on a console, Ctrl-C typed: the directory removed" gone "$p"
    check "run on a console, Ctrl-C typed: nothing left in -p DIR" [ -z "$(ls -A "$E")" ]
    check "run on a console, Ctrl-C typed: 'removed' said" grep -q "removed directory" "$W/err"
    check "run on a console, Ctrl-C typed: the command got it (wrote nothing)" [ ! -e "$F/out" ]
else
    skip "run on a console, Ctrl-C typed (no script)"
fi
for opt in "--prefix=a\\b" "--suffix=a\\b" "--prefix=a/b" "--suffix=/" "--prefix=a:b"; do
    before=$(ls -A "$D" | wc -l)
    win /dev/null "$TOOL" run -p "$DW" "$opt" -- cmd /c exit 0
    check "run $opt: 1" [ $rc = 1 ]
    check "run $opt: nothing made" [ "$(ls -A "$D" | wc -l)" = "$before" ]
    check "run $opt: the usage message" [ "$(text "$W/err")" = \
        "tmpf run: --prefix and --suffix must not contain '\\', '/' or ':' (try 'tmpf run --help')" ]
done
win /dev/null "$TOOL" sweep --prefix=a:b "$DW"
check "sweep --prefix=a:b: 1" [ $rc = 1 ]
check "sweep --prefix=a:b: the usage message" [ "$(text "$W/err")" = \
    "tmpf sweep: --prefix and --suffix must not contain '\\', '/' or ':' (try 'tmpf sweep --help')" ]

# ---- write-atomic -------------------------------------------------------------
# Binary: CR-LF, a lone CR, NUL and ^Z (the end of text-mode input) kept.
printf 'a\r\nb\0c\032d\ne\r' >"$W/in.bin"
win "$W/in.bin" "$TOOL" write-atomic "$DW\\out.bin"
check "write-atomic: 0" [ $rc = 0 ]
check "write-atomic: binary standard input byte for byte" cmp -s "$W/in.bin" "$D/out.bin"
head -c 300000 /dev/urandom >"$W/big.bin" # past the first 64 KiB buffer
win "$W/big.bin" "$TOOL" write-atomic "$DW\\out.bin"
check "write-atomic, 300 KB of random bytes: 0" [ $rc = 0 ]
check "write-atomic, 300 KB of random bytes: byte for byte" cmp -s "$W/big.bin" "$D/out.bin"
printf 'second\r\n' >"$W/in2.bin"
win "$W/in2.bin" "$TOOL" write-atomic "$DW\\out.bin"
check "write-atomic over an existing file: 0" [ $rc = 0 ]
check "write-atomic over an existing file: replaced" cmp -s "$W/in2.bin" "$D/out.bin"
win "$W/in.bin" "$TOOL" write-atomic "$DW\\выход.bin"
check "write-atomic, UTF-8 name: 0" [ $rc = 0 ]
check "write-atomic, UTF-8 name: written" cmp -s "$W/in.bin" "$D/выход.bin"
win "$W/in.bin" "$TOOL" write-atomic --no-clobber "$DW\\out.bin"
check "write-atomic --no-clobber existing: 1" [ $rc = 1 ]
check "write-atomic --no-clobber existing: untouched" cmp -s "$W/in2.bin" "$D/out.bin"
check "write-atomic: nothing else left" [ "$(ls "$D" | grep -c -v -e '^out\.bin$' -e '^выход\.bin$' -e '^ctrlc\.out$' -e '^tmp\.' -e '^дир_')" = 0 ]

# ---- sweep, publish: work, or say in one line that they cannot ---------------
# A stale entry of the pattern (zz + 8 name characters, two hours old) goes,
# or tmpf says in one line that sweep is not there; exit 0 with the entry
# still there is the failure. A name outside the pattern always stays.
: >"$D/zzkeepme"
: >"$D/zzabcd_123"
touch -d '2 hours ago' "$D/zzabcd_123"
win /dev/null "$TOOL" sweep --prefix=zz --older-than=60 "$DW"
if [ $rc = 0 ]; then
    check "sweep: 0 and the stale entry removed" [ ! -e "$D/zzabcd_123" ]
else
    check "sweep: 1 and one line (not supported)" [ $rc = 1 -a "$(lines "$W/err")" = 1 ]
fi
check "sweep: a name not of the pattern untouched" [ -e "$D/zzkeepme" ]
rm -f "$D/zzabcd_123"

# publish: to a new TARGET a rename; an existing TARGET cannot be swapped
# atomically on Windows (no RENAME_EXCHANGE): one line, nothing changed.
mkdir -p "$W/src/sub" "$W/old"
echo one >"$W/src/sub/f"
echo old >"$W/old/g"
win /dev/null "$TOOL" publish --no-clobber "$(winpath "$W/src")" "$(winpath "$W/old")"
check "publish --no-clobber, TARGET exists: 1 and one line" [ $rc = 1 -a "$(lines "$W/err")" = 1 ]
check "publish --no-clobber, TARGET exists: DIR as it was" [ "$(cat "$W/src/sub/f")" = one ]
check "publish --no-clobber, TARGET exists: TARGET untouched" [ "$(ls "$W/old")" = g ]
win /dev/null "$TOOL" publish "$(winpath "$W/src")" "$(winpath "$W/old")"
check "publish over an existing TARGET: 1 and one line" [ $rc = 1 -a "$(lines "$W/err")" = 1 ]
check "publish over an existing TARGET: says why: $(text "$W/err")" \
    [ "$(text "$W/err")" = "tmpf: publish: cannot replace existing '$(winpath "$W/old")' with '$(winpath "$W/src")': no atomic exchange of two directories on this system or file system (not supported)" ]
check "publish over an existing TARGET: DIR as it was" [ "$(cat "$W/src/sub/f")" = one ]
check "publish over an existing TARGET: TARGET untouched" [ "$(ls "$W/old")" = g ]
check "publish failed: no side directory left" [ -z "$(ls -A "$W" | grep '^\.')" ]
win /dev/null "$TOOL" publish "$(winpath "$W/src")" "$(winpath "$W/dst")"
check "publish to a new TARGET: 0" [ $rc = 0 ]
check "publish to a new TARGET: the tree at TARGET" [ "$(cat "$W/dst/sub/f" 2>/dev/null)" = one ]
check "publish to a new TARGET: DIR gone" [ ! -e "$W/src" ]
check "publish: no side directory left" [ -z "$(ls -A "$W" | grep '^\.')" ]

[ $skipped = 0 ] || echo "$skipped skipped"
echo "$passed passed, $failed failed"
[ $failed = 0 ]
