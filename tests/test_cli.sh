#!/usr/bin/env bash
# The tmpf command-line tool. Part 1 runs a table of argument combinations
# through GNU mktemp and tmpf in the same sandbox and compares exit status,
# which of stdout/stderr is empty, the shape of the printed name and what
# was created. Parts 2-4 test run, write-atomic and dir.
# Everything is created under one scratch directory on /dev/shm (plus the
# names the default-directory cases make in /tmp, removed by name).
set -u
T=${TMPF_TEST_TOOL:?TMPF_TEST_TOOL must name the built tmpf}
M=/usr/bin/mktemp
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
passed=0 failed=0 skipped=0

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
skip() { skipped=$((skipped + 1)); echo "SKIP: $*"; }
# check NAME COMMAND...: passes when COMMAND succeeds.
matches() { [[ $1 =~ $2 ]]; } # STRING ERE
check() { local n=$1; shift; if "$@"; then pass; else fail "$n"; fi; }

W=$($M -d /dev/shm/tmpf-test-cli.XXXXXXXX) || exit 1
chmod 755 "$W"
cleanup() { chmod -R u+rwx "$W" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT

can_drop=1
"${NOBODY[@]}" true 2>/dev/null || can_drop=0
[ "$(id -u)" = 0 ] || can_drop=0

# ---- Part 1: mktemp compatibility -----------------------------------------

S=$W/sb
mkdir -p "$S"/{cwd/rel,cwd/sub,tmpd,d/sub,ro,nb}
: >"$S/file"
chmod 755 "$S" "$S"/tmpd "$S"/d "$S"/d/sub
chmod 1777 "$S"/cwd "$S"/cwd/rel "$S"/cwd/sub "$S"/nb
chmod 555 "$S"/ro # writable only for root: the nobody cases fail in it

# Positions where the two names differ must be mktemp's [A-Za-z0-9] against
# our [a-z0-9_]; everything else (directory, prefix, suffix) is identical.
# With "xlit" our name may keep an X literal where mktemp has replaced it
# (more than 64 X's: the library's rand_len limit).
same_shape() {
    local a=$1 b=$2 xlit=${3:-} i ca cb
    [ ${#a} -eq ${#b} ] || return 1
    for ((i = 0; i < ${#a}; i++)); do
        ca=${a:i:1} cb=${b:i:1}
        [ "$ca" = "$cb" ] && continue
        [[ $ca == [A-Za-z0-9] && $cb == [a-z0-9_] ]] && continue
        [[ $xlit == xlit && $cb == X ]] || return 1
    done
}

kind_of() { # path relative to the case's cwd
    local p=$1
    [[ $p != /* ]] && p=$S/cwd/$p
    if [ -L "$p" ]; then echo link
    elif [ -d "$p" ]; then echo "dir $(stat -c %a "$p")"
    elif [ -f "$p" ]; then echo "file $(stat -c %a "$p") $(stat -c %s "$p")"
    elif [ -e "$p" ]; then echo other
    else echo none; fi
}

# Removes what a case made, only where the cases are allowed to make things.
remove_made() {
    local p=$1
    [[ $p != /* ]] && p=$S/cwd/$p
    case $p in
    "$S"/* | /tmp/tmp.* | /tmp/foo*) rm -rf -- "$p" ;;
    *) echo "refusing to remove unexpected path $p" ;;
    esac
}

# run_one PROG USER TMPDIR_SPEC ARGS...: fills rc, out, err.
run_one() {
    local prog=$1 user=$2 td=$3
    shift 3
    local envv=(env -u TMPDIR)
    case $td in
    unset) ;;
    empty) envv=(env TMPDIR=) ;;
    *) envv=(env "TMPDIR=$td") ;;
    esac
    local drop=()
    [ "$user" = nobody ] && drop=("${NOBODY[@]}")
    (cd "$S/cwd" && exec "${drop[@]}" "${envv[@]}" "$prog" "$@") \
        >"$W/out" 2>"$W/err" </dev/null
    rc=$?
    out=$(cat "$W/out")
    err=$(cat "$W/err")
}

X70=$(printf 'X%.0s' {1..70})
X20=$(printf 'X%.0s' {1..20})
# user | TMPDIR (unset, empty or a value) | arguments (eval'd) | flags
# flag "text": output is not a name (help, version).
cases=(
    "root|$S/tmpd||"
    "root|unset||"
    "root|empty||"
    "root|$S/tmpd|-d|"
    "root|$S/tmpd|-u|"
    "root|$S/tmpd|-q|"
    "root|$S/tmpd|-d -u|"
    "root|$S/tmpd|--directory --quiet|"
    "root|$S/tmpd|--dry-run|"
    "root|$S/tmpd|fooXXX|"
    "root|$S/tmpd|fooXX|"
    "root|$S/tmpd|XXX|"
    "root|$S/tmpd|foo$X20|"
    "root|$S/tmpd|-d foo$X20|"
    "root|$S/tmpd|foo$X70|xlit"
    "root|$S/tmpd|fooXXXbar|"
    "root|$S/tmpd|fooXXXbarX|"
    "root|$S/tmpd|fooXXX.txt -d|"
    "root|$S/tmpd|--suffix=.txt fooXXX|"
    "root|$S/tmpd|--suffix=.txt|"
    "root|$S/tmpd|--suffix=.txt fooXXX.y|"
    "root|$S/tmpd|--suffix=a/b fooXXX|"
    "root|$S/tmpd|--suffix=/x|"
    "root|$S/tmpd|-d --suffix=s/ fooXXX|"
    "root|$S/tmpd|--suffix=s/ fooXXX|"
    "root|$S/tmpd|-u --suffix=s/ fooXXX|"
    "root|$S/tmpd|XXX/foo|"
    "root|$S/tmpd|sub/fooXXX|"
    "root|$S/tmpd|$S/d/fooXXXXXX|"
    "root|$S/tmpd|../cwd/sub/../fooXXX|"
    "root|$S/tmpd|-p $S/d|"
    "root|$S/tmpd|-p $S/d fooXXX|"
    "root|$S/tmpd|-p $S/d/ -d fooXXX|"
    "root|$S/tmpd|-p $S/d sub/fooXXX|"
    "root|$S/tmpd|-p $S/d $S/d/fooXXX|"
    "root|$S/tmpd|-p . fooXXX|"
    "root|unset|-p '' fooXXX|"
    "root|$S/tmpd|--tmpdir fooXXX|"
    "root|unset|--tmpdir fooXXX|"
    "root|$S/tmpd|--tmpdir=$S/d fooXXX|"
    "root|$S/tmpd|--tmpdir= fooXXX|"
    "root|$S/tmpd|--tmp=$S/d|"
    "root|$S/tmpd|-t fooXXX|"
    "root|unset|-t fooXXX|"
    "root|empty|-t fooXXX|"
    "root|$S/tmpd|-t -p $S/d fooXXX|"
    "root|unset|-t -p $S/d fooXXX|"
    "root|$S/tmpd|-t sub/fooXXX|"
    "root|$S/tmpd|-t $S/d/fooXXX|"
    "root|rel|fooXXX|"
    "root|rel||"
    "root|$S/tmpd|-p $S/nonexistent|"
    "root|$S/tmpd|-q -p $S/nonexistent|"
    "root|$S/tmpd|-d -p $S/nonexistent|"
    "root|$S/tmpd|-u -p $S/nonexistent|"
    "root|$S/nonexistent||"
    "root|$S/tmpd|-p $S/file|"
    "root|$S/tmpd|-u -p $S/file|"
    "root|$S/tmpd|-q fooXX|"
    "root|$S/tmpd|-- -fooXXX|"
    "root|$S/tmpd|-d -- fooXXX|"
    "root|$S/tmpd|fooXXX -d|"
    "root|$S/tmpd|-z|"
    "root|$S/tmpd|--bogus|"
    "root|$S/tmpd|--d|"
    "root|$S/tmpd|--dir|"
    "root|$S/tmpd|aXXX bXXX|"
    "root|$S/tmpd|-p|"
    "root|$S/tmpd|fooXXX --suffix|"
    "root|$S/tmpd|--help|text"
    "root|$S/tmpd|--version|text"
    "root|$S/tmpd|-V|text"
    "nobody|$S/tmpd|-p $S/ro|"
    "nobody|$S/ro||"
    "nobody|$S/tmpd|-d -p $S/ro|"
    "nobody|$S/tmpd|-q -d -p $S/ro|"
    "nobody|$S/tmpd|-u -p $S/ro|"
    "nobody|$S/tmpd|-p $S/nb|"
    "nobody|$S/tmpd|-d -t -p $S/nb fooXXX|"
)

snapshot() { find "$S" | sort; }
base=$(snapshot)
ncase=0
for c in "${cases[@]}"; do
    IFS='|' read -r user td argstr flags <<<"$c"
    eval "args=($argstr)"
    name="mktemp [$user TMPDIR=$td] ${args[*]:-}"
    if [ "$user" = nobody ] && [ $can_drop = 0 ]; then
        skip "$name (cannot drop privileges here)"
        continue
    fi
    ncase=$((ncase + 1))
    run_one "$M" "$user" "$td" "${args[@]}"
    m_rc=$rc m_out=$out m_err=$err m_kind=none
    if [ $m_rc = 0 ] && [ "$flags" != text ]; then
        m_kind=$(kind_of "$m_out")
        [ "$m_kind" = none ] || remove_made "$m_out"
    fi
    run_one "$T" "$user" "$td" "${args[@]}"
    t_rc=$rc t_out=$out t_err=$err t_kind=none
    if [ $t_rc = 0 ] && [ "$flags" != text ]; then
        t_kind=$(kind_of "$t_out")
        [ "$t_kind" = none ] || remove_made "$t_out"
    fi
    ok=1
    [ "$m_rc" = "$t_rc" ] || { ok=0; echo "  exit: mktemp $m_rc, tmpf $t_rc"; }
    if { [ -z "$m_out" ] && [ -n "$t_out" ]; } || { [ -n "$m_out" ] && [ -z "$t_out" ]; }; then
        ok=0; echo "  stdout: mktemp '$m_out', tmpf '$t_out'"
    fi
    if { [ -z "$m_err" ] && [ -n "$t_err" ]; } || { [ -n "$m_err" ] && [ -z "$t_err" ]; }; then
        ok=0; echo "  stderr: mktemp '$m_err', tmpf '$t_err'"
    fi
    if [ "$t_rc" != 0 ] && [ "$(printf '%s\n' "$t_err" | wc -l)" -gt 1 ]; then
        ok=0; echo "  stderr is more than one line: $t_err"
    fi
    if [ "$flags" != text ] && [ "$m_rc" = 0 ] && ! same_shape "$m_out" "$t_out" "$flags"; then
        ok=0; echo "  shape: mktemp '$m_out', tmpf '$t_out'"
    fi
    [ "$m_kind" = "$t_kind" ] || { ok=0; echo "  made: mktemp '$m_kind', tmpf '$t_kind'"; }
    now=$(snapshot)
    if [ "$now" != "$base" ]; then
        ok=0; echo "  left behind: $(diff <(echo "$base") <(echo "$now") | grep '^>')"
        # Put the sandbox back for the next case.
        diff <(echo "$base") <(echo "$now") | sed -n 's/^> //p' | sort -r |
            while read -r p; do rm -rf -- "$p"; done
    fi
    if [ $ok = 1 ]; then pass; else fail "$name"; fi
done
[ $ncase -ge 40 ] || fail "fewer than 40 mktemp cases ran ($ncase)"

# Our alphabet, and the X's past 64 kept literally.
out=$(cd "$S/cwd" && "$T" -u "a$X70")
check "X's replaced by [a-z0-9_]" matches "${out:7}" '^[a-z0-9_]{64}$'
check "X's beyond 64 stay literal" [ "${out:0:7}" = "aXXXXXX" ]

# A name nobody could read is removed (mktemp does the same).
for prog in "$M" "$T"; do
    (cd "$S/cwd" && TMPDIR=$S/tmpd "$prog" >/dev/full 2>"$W/err")
    rc=$?
    check "$prog >/dev/full fails" [ $rc = 1 ]
    check "$prog >/dev/full says why" [ -s "$W/err" ]
    check "$prog >/dev/full leaves nothing" [ "$(snapshot)" = "$base" ]
    (cd "$S/cwd" && TMPDIR=$S/tmpd "$prog" -d >/dev/full 2>/dev/null)
    check "$prog -d >/dev/full leaves nothing" [ "$(snapshot)" = "$base" ]
    (cd "$S/cwd" && TMPDIR=$S/tmpd "$prog" >&- 2>/dev/null)
    check "$prog with stdout closed fails" [ $? = 1 ]
    check "$prog with stdout closed leaves nothing" [ "$(snapshot)" = "$base" ]
done

# ---- Part 2: tmpf run ------------------------------------------------------

R=$W/run
mkdir "$R"
empty_R() { [ -z "$(ls -A "$R")" ]; }
reset_R() { chmod -R u+rwx "$R" 2>/dev/null; rm -rf "$R"; mkdir "$R"; }

"$T" run -p "$R" -- true
check "run true: 0" [ $? = 0 ]
check "run true: removed" empty_R
"$T" run -p "$R" -- sh -c 'exit 3'
check "run exit 3: 3" [ $? = 3 ]
check "run exit 3: removed" empty_R
"$T" run -p "$R" -- sh -c 'kill -KILL $$'
check "run CMD killed by SIGKILL: 137" [ $? = 137 ]
check "run CMD killed: removed" empty_R
"$T" run -p "$R" -- sh -c 'kill -SEGV $$' 2>/dev/null
check "run CMD killed by SIGSEGV: 139" [ $? = 139 ]
"$T" run -p "$R" -- /nonexistent/cmd 2>"$W/err"
check "run CMD not found: 127" [ $? = 127 ]
check "run CMD not found: message" grep -q 'No such file' "$W/err"
check "run CMD not found: removed" empty_R
"$T" run -p "$R" -- "$S/file" 2>"$W/err"
check "run CMD not executable: 126" [ $? = 126 ]
check "run CMD not executable: removed" empty_R

# Environment: TMPF_PATH for both kinds, TMPDIR for a directory only.
"$T" run -p "$R" -- sh -c 'echo "$TMPF_PATH"; echo "$TMPDIR"; stat -c "%F %a" "$TMPF_PATH"' >"$W/out"
check "run -d: 0" [ $? = 0 ]
{ read -r p1; read -r p2; read -r what; } <"$W/out"
check "run -d: TMPF_PATH in -p DIR" matches "$p1" "^$R/tmp[a-z0-9_]{8}\$"
check "run -d: TMPDIR = TMPF_PATH" [ "$p1" = "$p2" ]
check "run -d: a 0700 directory" [ "$what" = "directory 700" ]
check "run -d: removed" [ ! -e "$p1" ]
TMPDIR=/outer "$T" run -f -p "$R" -- sh -c 'echo "$TMPF_PATH"; echo "$TMPDIR"; stat -c "%F %a" "$TMPF_PATH"; echo hi >"$TMPF_PATH"; cat "$TMPF_PATH"' >"$W/out"
check "run -f: 0" [ $? = 0 ]
{ read -r p1; read -r p2; read -r what; read -r hi; } <"$W/out"
check "run -f: TMPF_PATH" matches "$p1" "^$R/tmp[a-z0-9_]{8}\$"
check "run -f: TMPDIR untouched" [ "$p2" = /outer ]
check "run -f: an empty 0600 file" [ "$what" = "regular empty file 600" ]
check "run -f: CMD can write it by name" [ "$hi" = hi ]
check "run -f: removed" empty_R
"$T" run -f -p "$R" -- sh -c 'rm "$TMPF_PATH"'
check "run -f: CMD removing the file is fine" [ $? = 0 ]

# No shell: arguments arrive verbatim; options after COMMAND are its own.
out=$("$T" run -p "$R" -- printf '%s|' 'a b' '$HOME' '*' -d)
check "run: arguments verbatim" [ "$out" = 'a b|$HOME|*|-d|' ]
out=$("$T" run -p "$R" echo -f)
check "run: COMMAND without --" [ "$out" = "-f" ]

out=$("$T" run -p "$R" --prefix=pre. --suffix=.suf -- sh -c 'basename "$TMPF_PATH"')
check "run --prefix --suffix" matches "$out" '^pre\.[a-z0-9_]{8}\.suf$'
"$T" run -p "$R" --prefix=a/b -- true 2>"$W/err"
check "run --prefix with '/': 1" [ $? = 1 ]
check "run --prefix with '/': one line" [ "$(wc -l <"$W/err")" = 1 ]
check "run --prefix with '/': nothing made" empty_R
check "run --prefix with '/': the usage message" [ "$(cat "$W/err")" = \
    "tmpf run: --prefix and --suffix must not contain '/' (try 'tmpf run --help')" ]

"$T" run -p "$R" --keep -- true 2>"$W/err"
check "run --keep: 0" [ $? = 0 ]
kept=$(cat "$W/err")
check "run --keep: path printed and kept" [ -d "$kept" ]
check "run --keep: in -p DIR" matches "$kept" "^$R/tmp[a-z0-9_]{8}\$"
reset_R
"$T" run -f -p "$R" --keep -- true 2>"$W/err"
check "run -f --keep: file kept" [ -f "$(cat "$W/err")" ]
reset_R

"$T" run -v -p "$R" -- true 2>"$W/err"
check "run --verbose: created + removed lines" \
    [ "$(grep -c -e 'created directory' -e 'removed directory' "$W/err")" = 2 ]

# stderr a pipe whose reader is gone: no diagnostic may kill tmpf (SIGPIPE)
# or skip the command or the cleanup.
exec {dead}> >(exit 0)
reader=$!
while kill -0 "$reader" 2>/dev/null; do sleep 0.05; done
for args in "-v" "-v -f" "--keep -v"; do
    rm -f "$W/ran"
    # shellcheck disable=SC2086
    "$T" run $args -p "$R" -- sh -c 'echo "$TMPF_PATH" >"$0"; exit 5' "$W/ran" 2>&$dead
    rc=$?
    check "run $args, dead stderr: COMMAND's status (not SIGPIPE)" [ $rc = 5 ]
    check "run $args, dead stderr: COMMAND ran" [ -s "$W/ran" ]
    case $args in
    *keep*) check "run $args, dead stderr: kept" [ -e "$(cat "$W/ran")" ] ;;
    *) check "run $args, dead stderr: removed" empty_R ;;
    esac
    reset_R
done
"$T" run -p "$S/nonexistent" -- true 2>&$dead
check "run, dead stderr, failing: status 1 (not SIGPIPE)" [ $? = 1 ]
"$T" write_atomic x 2>&$dead
check "unknown command, dead stderr: status 1" [ $? = 1 ]
exec {dead}>&-

for bad in "" "--" "--bogus -- true" "-p" "-x -- true"; do
    eval "set -- $bad"
    "$T" run "$@" 2>"$W/err" >/dev/null
    rc=$?
    check "run $bad: usage error 1" [ $rc = 1 ]
    check "run $bad: one-line message" [ "$(wc -l <"$W/err")" = 1 ]
done
check "run usage errors: nothing made" empty_R
"$T" run -p "$S/nonexistent" -- true 2>"$W/err"
check "run -p missing dir: 1" [ $? = 1 ]
check "run -p missing dir: message" grep -q 'No such file' "$W/err"

# fork fails (no process left under RLIMIT_NPROC for an unprivileged user):
# message, status 1, the temporary removed.
if [ $can_drop = 1 ]; then
    mkdir "$W/np" && chmod 1777 "$W/np"
    "${NOBODY[@]}" bash -c 'ulimit -u 0 && exec "$0" run -p "$1" -- true' "$T" "$W/np" 2>"$W/err"
    check "run, fork fails: 1" [ $? = 1 ]
    check "run, fork fails: message" grep -q 'cannot start' "$W/err"
    check "run, fork fails: removed" [ -z "$(ls -A "$W/np")" ]
else
    skip "run, fork fails (cannot drop privileges here)"
fi

# Signals: sent to tmpf while CMD runs. wait_for FILE: until CMD wrote it.
wait_for() {
    local n=0
    while [ ! -s "$1" ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n + 1)); done
}
signal_case() { # SIGNAL, tmpf's expected exit
    local sig=$1 want=$2
    rm -f "$W/p" "$W/got"
    set -m # a background job that does not ignore SIGINT
    # CMD records that the signal reached it, then exits 9.
    "$T" run -p "$R" -- sh -c 'trap "echo got >\"\$2\"; exit 9" '"$sig"'
        echo "$TMPF_PATH" >"$1.tmp"; mv "$1.tmp" "$1"
        n=0; while [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done' sh "$W/p" "$W/got" &
    local pid=$!
    set +m
    wait_for "$W/p"
    kill -"$sig" $pid
    { wait $pid; } 2>/dev/null
    local rc=$?
    check "run: SIG$sig to tmpf: tmpf dies of SIG$sig ($rc)" [ $rc = "$want" ]
    check "run: SIG$sig to tmpf: forwarded to CMD" [ -s "$W/got" ]
    check "run: SIG$sig to tmpf: directory removed" [ ! -e "$(cat "$W/p")" ]
    check "run: SIG$sig to tmpf: nothing left" empty_R
}
signal_case TERM 143
signal_case HUP 129
signal_case INT 130

# CMD killed by the forwarded signal (sleep does not catch it).
rm -f "$W/p"
"$T" run -p "$R" -- sh -c 'echo x >"$1"; exec sleep 60' sh "$W/p" &
pid=$!
wait_for "$W/p"
kill -TERM $pid
{ wait $pid; } 2>/dev/null
check "run: SIGTERM, CMD sleeping: 143" [ $? = 143 ]
check "run: SIGTERM, CMD sleeping: removed" empty_R

# A signal ignored when tmpf starts (nohup, "cmd &") stays ignored, for
# tmpf and for CMD: here CMD sends SIGHUP to tmpf (its parent) and itself.
out=$( (trap '' HUP; exec "$T" run -p "$R" -- sh -c 'kill -HUP $PPID; kill -HUP $$; echo survived') )
check "run: ignored SIGHUP stays ignored: 0" [ $? = 0 ]
check "run: ignored SIGHUP stays ignored for CMD" [ "$out" = survived ]
check "run: ignored SIGHUP: removed" empty_R
# Not ignored: the same SIGHUP makes tmpf forward it and die of it.
{ (exec "$T" run -p "$R" -- sh -c 'kill -HUP $PPID; exec sleep 60'); } 2>/dev/null
check "run: SIGHUP from CMD itself: tmpf dies of it" [ $? = 129 ]
check "run: SIGHUP from CMD itself: removed" empty_R

# Removal of a non-empty directory needs tmpf_rmtree (issue 5): find out
# whether this library has it.
"$T" run -p "$R" -- sh -c 'mkdir "$TMPF_PATH/sub"; echo x >"$TMPF_PATH/sub/f"' 2>"$W/err"
rc=$?
if grep -q 'Function not implemented' "$W/err"; then
    skip "run: removal of a non-empty directory (tmpf_rmtree returns ENOSYS in this build)"
    skip "run: cleanup after CMD failure with contents (tmpf_rmtree returns ENOSYS)"
    skip "run: SIGTERM with contents (tmpf_rmtree returns ENOSYS)"
    reset_R
else
    check "run: non-empty directory: 0" [ $rc = 0 ]
    check "run: non-empty directory removed" empty_R
    "$T" run -p "$R" -- sh -c 'touch "$TMPF_PATH/a"; chmod 0 "$TMPDIR"; exit 4'
    check "run: CMD fails with contents: 4" [ $? = 4 ]
    check "run: CMD fails with contents: removed" empty_R
    rm -f "$W/p"
    "$T" run -p "$R" -- sh -c 'touch "$TMPDIR/f"; echo x >"$1"; exec sleep 60' sh "$W/p" &
    pid=$!
    wait_for "$W/p"
    kill -TERM $pid
    { wait $pid; } 2>/dev/null
    check "run: SIGTERM with contents: 143" [ $? = 143 ]
    check "run: SIGTERM with contents: removed" empty_R
fi

# ---- Part 3: tmpf write-atomic --------------------------------------------

A=$W/wa
mkdir "$A"
chmod 755 "$A"
F=$A/target
printf old >"$F"
chmod 640 "$F"
listing() { ls -A "$A" | tr '\n' ' '; }

printf new | "$T" write-atomic "$F" 2>"$W/err"
rc=$?
if grep -q 'Function not implemented' "$W/err"; then
    wa_ok=0
    skip "write-atomic success cases (tmpf_write_atomic returns ENOSYS in this build)"
    check "write-atomic ENOSYS: exit 1" [ $rc = 1 ]
    check "write-atomic ENOSYS: FILE untouched" [ "$(cat "$F")" = old ]
else
    wa_ok=1
    check "write-atomic: 0" [ $rc = 0 ]
    check "write-atomic: new contents" [ "$(cat "$F")" = new ]
    check "write-atomic: mode kept" [ "$(stat -c %a "$F")" = 640 ]
    check "write-atomic: nothing else left" [ "$(listing)" = "target " ]
    head -c 300000 /dev/urandom >"$W/big"
    "$T" write-atomic --durable "$F" <"$W/big"
    check "write-atomic --durable, 300 kB: 0" [ $? = 0 ]
    check "write-atomic --durable: same bytes" cmp -s "$F" "$W/big"
    "$T" write-atomic "$A/new" </dev/null
    check "write-atomic new empty FILE" [ -f "$A/new" -a ! -s "$A/new" ]
    rm -f "$A/new"
    (umask 022; printf x | "$T" write-atomic "$A/new")
    check "write-atomic new FILE: 0666 minus umask" [ "$(stat -c %a "$A/new")" = 644 ]
    rm -f "$A/new"
    printf x | "$T" write-atomic --no-clobber "$A/new"
    check "write-atomic --no-clobber new FILE: 0" [ $? = 0 ]
    rm -f "$A/new"
    printf y | "$T" write-atomic --no-clobber "$F" 2>"$W/err"
    check "write-atomic --no-clobber existing: 1" [ $? = 1 ]
    check "write-atomic --no-clobber existing: message" grep -q 'exists' "$W/err"
    check "write-atomic --no-clobber existing: untouched" cmp -s "$F" "$W/big"
    check "write-atomic --no-clobber: nothing left" [ "$(listing)" = "target " ]
    printf old >"$F"
fi

# stdin is a directory: read fails (EISDIR) before anything is made.
"$T" write-atomic "$F" <"$A" 2>"$W/err"
check "write-atomic stdin a directory: 1" [ $? = 1 ]
check "write-atomic stdin a directory: message" grep -q 'standard input' "$W/err"
check "write-atomic stdin a directory: untouched" [ "$(cat "$F")" = old ]
check "write-atomic stdin a directory: nothing left" [ "$(listing)" = "target " ]
"$T" write-atomic "$F" <&- 2>"$W/err"
check "write-atomic stdin closed: 1" [ $? = 1 ]
check "write-atomic stdin closed: untouched" [ "$(cat "$F")" = old ]

if [ $can_drop = 1 ]; then
    printf new | "${NOBODY[@]}" "$T" write-atomic "$F" 2>"$W/err"
    rc=$?
    if [ $wa_ok = 1 ]; then
        check "write-atomic unwritable directory: 1" [ $rc = 1 ]
        check "write-atomic unwritable directory: EACCES" grep -q 'Permission denied' "$W/err"
    else
        skip "write-atomic unwritable directory: message (ENOSYS)"
    fi
    check "write-atomic unwritable directory: untouched" [ "$(cat "$F")" = old ]
    check "write-atomic unwritable directory: nothing left" [ "$(listing)" = "target " ]
else
    skip "write-atomic unwritable directory (cannot drop privileges here)"
fi
printf new | "$T" write-atomic "$S/nonexistent/f" 2>"$W/err"
check "write-atomic missing directory: 1" [ $? = 1 ]
check "write-atomic missing directory: one line" [ "$(wc -l <"$W/err")" = 1 ]

for bad in "" "a b" "--bogus $F" "--durable"; do
    eval "set -- $bad"
    "$T" write-atomic "$@" </dev/null 2>"$W/err"
    check "write-atomic $bad: usage error 1" [ $? = 1 ]
    check "write-atomic $bad: one line" [ "$(wc -l <"$W/err")" = 1 ]
done
check "write-atomic usage errors: untouched" [ "$(cat "$F")" = old ]

# ---- Part 4: tmpf dir, --help, --version -----------------------------------

out=$(TMPDIR=$S/tmpd "$T" dir)
check "dir: \$TMPDIR" [ "$out" = "$S/tmpd" ]
out=$(cd "$S/cwd" && TMPDIR=rel "$T" dir)
check "dir: relative \$TMPDIR made absolute" [ "$out" = "$S/cwd/rel" ]
out=$(TMPDIR=$S/nonexistent TEMP= TMP= "$T" dir)
check "dir: missing \$TMPDIR skipped" [ -n "$out" -a "$out" != "$S/nonexistent" ]
"$T" dir extra 2>"$W/err"
check "dir extra: 1" [ $? = 1 ]
check "dir extra: one line" [ "$(wc -l <"$W/err")" = 1 ]
check "dir: nothing left in TMPDIR" [ "$(snapshot)" = "$base" ]

# Vetting: a TMPDIR others can write without the sticky bit is passed over;
# --explain says so, line by line.
mkdir "$W/open" && chmod 777 "$W/open"
out=$(TMPDIR=$W/open TEMP=$S/nonexistent TMP= "$T" dir)
check "dir: world-writable non-sticky \$TMPDIR passed over" [ "$out" != "$W/open" ]
explained=$(TMPDIR=$W/open TEMP=$S/nonexistent TMP= "$T" dir --explain)
check "dir --explain: 0" [ $? = 0 ]
want="\$TMPDIR=$W/open
\$TEMP=$S/nonexistent
\$TMP: not set
$W/open: passed over: others can write to it and it has no sticky bit
$S/nonexistent: passed over: does not exist"
check "dir --explain: every candidate and why" [ "$(head -n 5 <<<"$explained")" = "$want" ]
check "dir --explain: the one taken last" [ "$(tail -n 1 <<<"$explained")" = "$out: taken" ]
chmod 1777 "$W/open"
check "dir --explain: sticky taken" \
    [ "$(TMPDIR=$W/open "$T" dir --explain | tail -n 1)" = "$W/open: taken" ]
check "dir --explain: nothing left" [ -z "$(ls -A "$W/open")" ]

version=$("$T" --version)
check "--version: tmpf X.Y.Z" matches "$version" '^tmpf [0-9]+\.[0-9]+\.[0-9]+$'
for cmd in run write-atomic publish dir sweep; do
    out=$("$T" $cmd --help)
    check "$cmd --help: 0" [ $? = 0 ]
    check "$cmd --help: usage" matches "$out" "^Usage: tmpf $cmd"
    check "$cmd --version" [ "$("$T" $cmd --version)" = "$version" ]
done
out=$("$T" --help)
check "--help mentions every command" \
    [ "$(printf '%s\n' "$out" | grep -c -e '^  run' -e '^  write-atomic' -e '^  publish' -e '^  dir' -e '^  sweep')" = 5 ]
"$T" --help >/dev/full 2>/dev/null
check "--help >/dev/full: 1" [ $? = 1 ]
check "--help lists -V" matches "$out" $'\n  -V, --version'
check "help: the general help" [ "$("$T" help)" = "$out" ]
check "help run: run's help" [ "$("$T" help run)" = "$("$T" run --help)" ]

# A word that reads as a command but is none: said so, with a suggestion.
for w in "write_atomic x:write-atomic" "hlep:help" "rnu -- true:run" "dri:dir" \
    "foo:" "helpme:help"; do
    args=${w%%:*} want=${w#*:}
    # shellcheck disable=SC2086
    "$T" $args >"$W/out" 2>"$W/err"
    rc=$?
    first=${args%% *}
    check "$first: 1" [ $rc = 1 ]
    check "$first: nothing on stdout" [ ! -s "$W/out" ]
    if [ -n "$want" ]; then
        check "$first: did you mean $want" \
            [ "$(cat "$W/err")" = "tmpf: unknown command '$first' (did you mean '$want'?)" ]
    else
        check "$first: unknown command" grep -q "^tmpf: unknown command '$first'" "$W/err"
    fi
done
check "unknown commands: nothing made" [ "$(snapshot)" = "$base" ]

# Run as mktemp (a symlink): mktemp's name and coreutils' two-line usage
# errors, byte for byte, so scripts that match mktemp's stderr keep working.
mkdir "$W/bin"
ln -s "$T" "$W/bin/mktemp"
ln -s "$M" "$W/bin/gnu-mktemp"
for args in "-z" "aXXX bXXX" "-p" "fooXXX --suffix" "fooXX" "-p $S/nonexistent" "run" "dir"; do
    # shellcheck disable=SC2086
    (cd "$W/bin" && LC_ALL=C ./gnu-mktemp $args >/dev/null 2>"$W/gnu-err")
    g_rc=$?
    # shellcheck disable=SC2086
    (cd "$W/bin" && LC_ALL=C ./mktemp $args >/dev/null 2>"$W/err")
    t_rc=$?
    sed 's|\./gnu-mktemp|./mktemp|g' "$W/gnu-err" >"$W/gnu-err2"
    check "as mktemp $args: status as GNU's" [ $g_rc = $t_rc ]
    check "as mktemp $args: stderr as GNU's" cmp -s "$W/gnu-err2" "$W/err"
done
check "as mktemp: nothing made" [ "$(snapshot)" = "$base" ]

# ---- Part 5: tmpf sweep, and tmpf run against SIGKILL ----------------------

SW=$W/sweep
mkdir "$SW"
: >"$SW/job-abcd1234"; : >"$SW/job-abcd1234.log"; : >"$SW/job-short"; : >"$SW/other-abcd1234"
mkdir "$SW/job-tree0000" && : >"$SW/job-tree0000/in"
ln -s "$W/sb" "$SW/job-link0000"
"$T" sweep "$SW" 2>"$W/err"
check "sweep without --prefix: 1" [ $? = 1 ]
check "sweep without --prefix: one line" [ "$(wc -l <"$W/err")" = 1 ]
"$T" sweep --prefix=a/b "$SW" 2>"$W/err"
check "sweep --prefix with '/': 1" [ $? = 1 ]
check "sweep --prefix with '/': the usage message" [ "$(cat "$W/err")" = \
    "tmpf sweep: --prefix and --suffix must not contain '/' (try 'tmpf sweep --help')" ]
out=$("$T" sweep --prefix=job- --older-than=0 --dry-run "$SW")
check "sweep --dry-run: 0" [ $? = 0 ]
check "sweep --dry-run: three named" [ "$(grep -c '^would remove ' <<<"$out")" = 3 ]
check "sweep --dry-run: nothing removed" [ "$(ls -A "$SW" | wc -l)" = 6 ]
out=$("$T" sweep --prefix=job- --older-than=3600 -v "$SW")
check "sweep: too young, nothing" [ -z "$out" -a "$(ls -A "$SW" | wc -l)" = 6 ]
out=$("$T" sweep --prefix=job- --older-than=0 -v "$SW")
check "sweep -v: three removed" [ "$(grep -c "^removed $SW/job-" <<<"$out")" = 3 ]
check "sweep: the others stay" [ "$(ls -A "$SW" | sort | tr '\n' ' ')" = "job-abcd1234.log job-short other-abcd1234 " ]
check "sweep: a symlink's target survives" [ -d "$W/sb/cwd" ]
"$T" sweep --prefix=job- --older-than=-1 "$SW" 2>/dev/null
check "sweep --older-than=-1: 1" [ $? = 1 ]
"$T" sweep --prefix=job- "$SW/none" 2>/dev/null
check "sweep of a missing DIR: 1" [ $? = 1 ]

# tmpf run killed with SIGKILL: its guard removes the directory, which was
# locked while the command ran.
R=$W/run9
mkdir "$R"
"$T" run -p "$R" -- sh -c 'echo $$ >"$0/pid"; echo "$TMPF_PATH" >"$0/path"; exec sleep 30' "$W" &
runpid=$!
for _ in $(seq 500); do [ -s "$W/path" ] && [ -s "$W/pid" ] && break; sleep 0.01; done
d=$(cat "$W/path" 2>/dev/null)
check "run: a directory in -p DIR" [ -n "$d" -a -d "$d" ]
flock -n -x "$d" true 2>/dev/null
check "run: the directory is locked while the command runs" [ $? != 0 ]
kill -9 $runpid; wait $runpid 2>/dev/null
for _ in $(seq 500); do [ -e "$d" ] || break; sleep 0.01; done
check "run killed with SIGKILL: the guard removed its directory" [ ! -e "$d" ]
kill "$(cat "$W/pid")" 2>/dev/null

[ $skipped = 0 ] || echo "$skipped skipped"
echo "$passed passed, $failed failed"
[ $failed = 0 ]
