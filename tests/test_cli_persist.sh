#!/usr/bin/env bash
# tmpf write-atomic's new options (--keep-xattrs, --replace-special,
# --across-fs; owner kept as root) and tmpf publish (absent and existing
# TARGET, --no-clobber, DIR on another file system, a failure leaving DIR
# and TARGET as they were). Everything under one scratch directory on
# /dev/shm, plus one small directory of its own in /tmp.
set -u
T=${TMPF_TEST_TOOL:?TMPF_TEST_TOOL must name the built tmpf}
T=$(cd "$(dirname "$T")" && pwd)/$(basename "$T")
passed=0 failed=0 skipped=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
skip() { skipped=$((skipped + 1)); echo "SKIP: $*"; }
check() { local n=$1; shift; if "$@"; then pass; else fail "$n"; fi; }

# What this build can do (its generated features header, beside the tool).
F=$(dirname "$T")/gen/tmpf_features.h
keep_xattrs=0
if grep -qE '^#define TMPF_HAVE_(XATTR|XATTR_OPTIONS|EXTATTR) 1' "$F"; then
    keep_xattrs=1
fi

W=$(mktemp -d /dev/shm/tmpf-test-cli-persist.XXXXXXXX) || exit 1
O=$(mktemp -d /tmp/tmpf-test-cli-persist.XXXXXXXX) || exit 1
trap 'rm -rf "$W" "$O"' EXIT
cd "$W" || exit 1

# ---- write-atomic ---------------------------------------------------------
mkfifo fifo
printf x | "$T" write-atomic fifo 2>err
check "write-atomic FIFO: 1" [ $? = 1 ]
check "write-atomic FIFO: still a FIFO" [ -p fifo ]
check "write-atomic FIFO: message" grep -q "not a regular file" err
printf x | "$T" write-atomic --replace-special fifo
check "write-atomic --replace-special: 0" [ $? = 0 ]
regular_with() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; } # never cat a FIFO
check "write-atomic --replace-special: a file now" regular_with fifo x
printf y | "$T" write-atomic --across-fs fifo
check "write-atomic --across-fs: 0" [ $? = 0 ]
mkdir d && ln -s d ld
printf x | "$T" write-atomic ld 2>/dev/null
check "write-atomic symlink to a directory: 1" [ $? = 1 ]
check "write-atomic symlink to a directory: link kept" [ -L ld ]

if [ "$(id -u)" = 0 ]; then
    printf old >owned && chown 65534:65534 owned && chmod 640 owned
    printf new | "$T" write-atomic owned
    check "write-atomic as root: owner kept" [ "$(stat -c '%u:%g %a' owned)" = "65534:65534 640" ]
    if python3 -c 'import os; os.setxattr("owned", "user.tag", b"v")' 2>/dev/null; then
        printf 2 | "$T" write-atomic owned
        check "write-atomic: no xattrs without the option" \
            python3 -c 'import os,sys; sys.exit("user.tag" in os.listxattr("owned"))'
        python3 -c 'import os; os.setxattr("owned", "user.tag", b"v")'
        if [ "$keep_xattrs" = 1 ]; then
            printf 3 | "$T" write-atomic --keep-xattrs owned
            check "write-atomic --keep-xattrs: kept" \
                python3 -c 'import os,sys; sys.exit(os.getxattr("owned", "user.tag") != b"v")'
            check "write-atomic --keep-xattrs: content" [ "$(cat owned)" = 3 ]
        else
            # No xattr support built in (generic POSIX): the option fails.
            printf 3 | "$T" write-atomic --keep-xattrs owned 2>/dev/null
            check "write-atomic --keep-xattrs without xattrs: 1" [ $? = 1 ]
            check "write-atomic --keep-xattrs without xattrs: untouched" [ "$(cat owned)" != 3 ]
        fi
    else
        skip "no user xattrs on /dev/shm (or no python3)"
    fi
else
    skip "not root: owner keeping not checked"
fi

# ---- publish --------------------------------------------------------------
# Publishing over a tree needs an atomic exchange (TMPF_CAN_EXCHANGE_DIR in
# the build's tmpf_features.h: renameat2 or renameatx_np). Without one
# publish refuses (ENOTSUP) and leaves both trees; the test then checks
# that, removes TARGET and goes on with an absent one.
exchange=0
grep -Eq '^#define TMPF_HAVE_(RENAMEAT2|RENAMEATX_NP) 1$' \
    "${TMPF_BINARY_DIR:?TMPF_BINARY_DIR not set}/gen/tmpf_features.h" && exchange=1
# publish_over NAME DIR... TARGET: where there is no exchange, checks the
# refusal and removes TARGET, so that the caller's publish succeeds.
publish_over() {
    local n=$1; shift
    [ "$exchange" = 1 ] && return
    local last; for last; do :; done
    local before; before=$(ls -AR "$last")
    "$T" publish "$@" 2>err
    check "$n, no exchange: 1" [ $? = 1 ]
    check "$n, no exchange: message" grep -q "not supported" err
    check "$n, no exchange: TARGET as it was" [ "$(ls -AR "$last")" = "$before" ]
    rm -rf "$last"
}
mkdir -p src/sub && echo a >src/a && echo b >src/sub/b && chmod 750 src
"$T" publish src site
check "publish to an absent TARGET: 0" [ $? = 0 ]
check "publish: tree at TARGET" [ "$(cat site/a site/sub/b)" = "a
b" ]
check "publish: DIR gone" [ ! -e src ]
check "publish: DIR's mode" [ "$(stat -c %a site)" = 750 ]
mkdir src2 && echo n >src2/n
publish_over "publish over a tree" --durable src2 site
check "publish over a tree: DIR as it was" [ "$(ls -A src2)" = n ]
"$T" publish --durable src2 site
check "publish over a tree: 0" [ $? = 0 ]
check "publish over a tree: only the new tree" [ "$(ls -A site)" = n ]
check "publish: nothing else left" [ "$(ls -A | sort | tr '\n' ' ')" = "d err fifo ld $( [ -e owned ] && echo 'owned ')site " ]
mkdir src3 && echo x >src3/x
"$T" publish --no-clobber src3 site 2>err
check "publish --no-clobber: 1" [ $? = 1 ]
check "publish --no-clobber: DIR as it was" [ "$(ls -A src3)" = x ]
check "publish --no-clobber: TARGET as it was" [ "$(ls -A site)" = n ]
check "publish --no-clobber: message" grep -q "File exists" err
# --durable reads the tree before the refusal: DIR's entries still go back.
"$T" publish --durable --no-clobber src3 site 2>/dev/null
check "publish --durable --no-clobber: 1" [ $? = 1 ]
check "publish --durable --no-clobber: DIR as it was" [ "$(ls -A src3)" = x ]
"$T" publish src3 fifo 2>/dev/null
check "publish over a file: 1" [ $? = 1 ]
check "publish over a file: DIR as it was" [ "$(ls -A src3)" = x ]
check "publish over a file: no temporary left" [ -z "$(ls -A | grep tmpf-publish)" ]
mkdir -p "$O/tree/s" && echo o >"$O/tree/s/o"
publish_over "publish from another file system" "$O/tree" site
"$T" publish "$O/tree" site
check "publish from another file system: 0" [ $? = 0 ]
check "publish from another file system: copied" [ "$(cat site/s/o)" = o ]
check "publish from another file system: DIR gone" [ -z "$(ls -A "$O")" ]
"$T" publish nosuch site 2>/dev/null
check "publish missing DIR: 1" [ $? = 1 ]
"$T" publish src3 2>/dev/null
check "publish without TARGET: 1" [ $? = 1 ]
out=$("$T" publish --help)
check "publish --help" [ "${out%%]*}" = "Usage: tmpf publish [--durable" ]

[ $skipped = 0 ] || echo "$skipped skipped"
echo "$passed passed, $failed failed"
[ $failed = 0 ]
