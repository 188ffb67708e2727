#!/bin/sh
# Runs a Windows program under Wine, headless and quiet: the emulator of the
# mingw-w64 cross build (cmake/mingw-w64-x86_64.cmake), so ctest runs each
# test as `wine-run.sh test_x.exe`. The prefix is prepared once by
# .ci/wine-setup.sh (called from here each time; a no-op once done).
#   TMPF_WINEPREFIX  prefix to use (default: $HOME/.cache/tmpf-wine)
# Exit status: the program's.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
WINEPREFIX=${TMPF_WINEPREFIX:-${WINEPREFIX:-$HOME/.cache/tmpf-wine}}
export WINEPREFIX
export WINEDEBUG=-all
# No .NET (mscoree) and no Gecko (mshtml) installers, no dialogs.
export WINEDLLOVERRIDES="mscoree,mshtml="
export WINEARCH=win64
# A Unix TMPDIR would pass through to the Windows program as its TMPDIR.
unset TMPDIR
unset DISPLAY
# Cheap when done: makes the prefix once, (re)starts the persistent server.
sh "$here/../.ci/wine-setup.sh" >&2
# Wine's helper processes (services.exe, winedevice.exe, ...) outlive the
# program and inherit its standard output: a pipe (ctest's) would then
# never close. The program's output goes through a file instead.
out="$WINEPREFIX/run.$$.out"
rc=0
wine "$@" </dev/null >"$out" 2>&1 || rc=$?
cat "$out"
rm -f "$out"
exit "$rc"
