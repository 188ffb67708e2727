#!/bin/sh
# Prepares a headless Wine prefix for the Windows tests (cmake/wine-run.sh
# calls this when the prefix is missing; .ci/run may call it up front) and
# starts a persistent wineserver, so that each test does not wait seconds
# for a server to start and stop. Idempotent; concurrent callers wait on a
# lock. What matters (Wine 8, Debian 12, as root, no display):
#  - the prefix must be owned by the user running wine (a shared or
#    root-owned one is refused), so it lives in this user's $HOME;
#  - WINEDEBUG=-all, WINEDLLOVERRIDES="mscoree,mshtml=": no debug noise,
#    no .NET/Gecko install prompts;
#  - TMPDIR unset: it would reach the Windows programs; their TEMP/TMP
#    come from the prefix's registry, not from the Unix environment.
#   TMPF_WINEPREFIX  prefix (default: $HOME/.cache/tmpf-wine)
set -eu
WINEPREFIX=${TMPF_WINEPREFIX:-${WINEPREFIX:-$HOME/.cache/tmpf-wine}}
export WINEPREFIX WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" WINEARCH=win64
unset TMPDIR DISPLAY
for tool in wine wineboot wineserver; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "wine-setup: $tool not found (apt-get install wine64 wine)" >&2
        exit 1
    }
done
mkdir -p "$(dirname "$WINEPREFIX")"
lock="$WINEPREFIX.lock"
(
    if command -v flock >/dev/null 2>&1; then flock 9; fi
    if [ ! -f "$WINEPREFIX/system.reg" ]; then
        start=$(date +%s)
        wineboot -i </dev/null >/dev/null 2>&1 9>&- || true
        wineserver -w 9>&-
        [ -f "$WINEPREFIX/system.reg" ] || {
            echo "wine-setup: wineboot -i made no prefix in $WINEPREFIX" >&2
            exit 1
        }
        echo "wine-setup: prefix $WINEPREFIX ready in $(( $(date +%s) - start )) s" >&2
    fi
    # -p: persistent (stays after the last program exits); a second one
    # finds the first and exits. Never with the lock's descriptor: a server
    # that inherited it would hold the lock for ever.
    wineserver -p </dev/null >/dev/null 2>&1 9>&- || true
) 9>"$lock"
