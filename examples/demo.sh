#!/bin/sh
# The main job, run by `make demo`: the tmpf tool's commands, then a tour of
# the library (examples/demo.c), all inside one scratch directory that is
# removed at the end. Usage: demo.sh BUILD_DIR
set -eu
build=$(cd "${1:-build}" && pwd)
tmpf=$build/tmpf
PATH=$build:$PATH   # so the commands below read as a user types them

# Every command is shown, then run.
run() {
    printf '\n$ %s\n' "$1"
    eval "$1"
}

scratch=$(tmpf -d --tmpdir tmpf-demo.XXXXXX)
trap 'cd / && rm -rf "$scratch"' EXIT
cd "$scratch"
export TMPDIR="$scratch"
echo "== the tmpf tool (temporary files go to \$TMPDIR=$scratch) =="

run 'tmpf --version'
run 'tmpf dir'
run 'f=$(tmpf --suffix=.txt) && echo "hello" > "$f" && ls -l "$f" && rm -f "$f"'
run 'd=$(tmpf -d) && ls -ld "$d" && rmdir "$d"'
run 'tmpf -p . report.XXXX.csv && rm -f report.*.csv'
run "tmpf run -- sh -c 'echo \"CMD runs in \$TMPDIR\"; seq 3 > \"\$TMPDIR/work\"; ls \"\$TMPDIR\"'"
run 'ls -A "$TMPDIR"   # empty: tmpf run removed its directory'
run "tmpf run -- sh -c 'exit 3' || echo \"exit status \$?, also cleaned up\""
run "printf 'pear\napple\npear\n' > words && sort -u words | tmpf write-atomic words && cat words"
run 'tmpf write-atomic /nonexistent/dir/file < words || echo "exit status $?"'

echo
echo "== the library: $build/tmpf-demo (examples/demo.c) =="
"$build/tmpf-demo"

cd /
rm -rf "$scratch"
trap - EXIT
if [ -e "$scratch" ]; then
    echo "demo: $scratch is still there" >&2
    exit 1
fi
echo
echo "== done: $scratch and everything in it removed =="
