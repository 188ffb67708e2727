#!/usr/bin/env bash
# No GCC-only construct outside a GCC branch (issue 19: MSVC cannot be run
# here, so the sources must at least not need GCC). In the files another
# compiler would build -- the public header, the portable library, src/win/
# and the tool (not src/unix/ nor tools/os_unix.c: their systems' compilers
# are GCC or Clang) -- every __attribute__, __builtin_*, asm, typeof,
# statement expression "({", "?:" and case range must sit inside a
# preprocessor branch taken only for GCC or Clang: an #if or #elif whose
# condition names __GNUC__ or __clang__ (not its #else). The spellings the
# library uses are the macros of src/internal.h (TMPF__LIKELY,
# TMPF__CONSTRUCTOR, ...), tools/tool.h (TOOL_PRINTF) and include/tmpf.h.
set -u
root="${TMPF_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}"
passed=0 failed=0

# Prints "file:line: text" for each construct outside a GCC branch.
unguarded() {
    awk '
    function gnu(cond) { return cond ~ /__GNUC__|__clang__/ && cond !~ /!defined *\(? *__(GNUC|clang)__/ }
    FNR == 1 { depth = 0; in_comment = 0 }
    {
        line = $0
        # Comments say these words too: drop them (block comments may span lines).
        out = ""
        while (line != "") {
            if (in_comment) {
                e = index(line, "*/"); if (!e) { line = ""; break }
                line = substr(line, e + 2); in_comment = 0
            } else {
                b = index(line, "/*"); c = index(line, "//")
                if (c && (!b || c < b)) { out = out substr(line, 1, c - 1); line = ""; break }
                if (!b) { out = out line; line = ""; break }
                out = out substr(line, 1, b - 1); line = substr(line, b + 2); in_comment = 1
            }
        }
        gsub(/"([^"\\]|\\.)*"/, "\"\"", out)
        if (out ~ /^[ \t]*#[ \t]*if/) { depth++; g[depth] = gnu(out); next }
        if (out ~ /^[ \t]*#[ \t]*elif/) { g[depth] = gnu(out); next }
        if (out ~ /^[ \t]*#[ \t]*else/) { g[depth] = 0; next }
        if (out ~ /^[ \t]*#[ \t]*endif/) { depth--; next }
        inside = 0
        for (i = 1; i <= depth; i++) if (g[i]) inside = 1
        if (inside) next
        if (out ~ /__attribute__|__builtin_|__asm__|(^|[^_a-zA-Z0-9])asm[ \t]*\(|typeof|\(\{|\?:|case[^:]*\.\.\./)
            print FILENAME ":" FNR ": " $0
    }' "$@"
}

files=("$root/include/tmpf.h")
for f in "$root"/src/*.c "$root"/src/*.h "$root"/src/win/*.c "$root"/src/win/*.h \
         "$root"/tools/*.c "$root"/tools/*.h; do
    case "$f" in */tools/os_unix.c) continue ;; esac
    [ -e "$f" ] && files+=("$f")
done

hits=$(unguarded "${files[@]}")
if [ -z "$hits" ]; then
    passed=$((passed+1))
else
    failed=$((failed+1))
    echo "FAIL: GCC-only constructs outside a GCC branch:"
    echo "$hits"
fi

# The check itself: each construct is found unguarded, and each guard hides it.
probe=$(mktemp -d "${TMPDIR:-/tmp}/tmpf-gnu-free.XXXXXX")
trap 'rm -rf "$probe"' EXIT
n=0
for construct in '__attribute__((unused)) int x;' 'if (__builtin_expect(x, 0)) {}' \
                 '__asm__("");' 'typeof(x) y;' 'int y = ({ 1; });' 'int y = x ?: 1;' \
                 'case 1 ... 3:'; do
    n=$((n+1))
    printf 'int a;\n%s\n' "$construct" > "$probe/bare$n.c"
    printf '#if defined(__GNUC__) || defined(__clang__)\n%s\n#elif defined(_MSC_VER)\nint b;\n#endif\n' \
        "$construct" > "$probe/guarded$n.c"
    printf '#if defined(__GNUC__)\nint b;\n#else\n%s\n#endif\n' "$construct" > "$probe/else$n.c"
    if [ -n "$(unguarded "$probe/bare$n.c")" ] && [ -z "$(unguarded "$probe/guarded$n.c")" ] &&
       [ -n "$(unguarded "$probe/else$n.c")" ]; then
        passed=$((passed+1))
    else
        failed=$((failed+1))
        echo "FAIL: the check misjudges: $construct"
    fi
done
printf '/* __attribute__ in a comment */\nconst char *s = "__builtin_ in a string";\n' > "$probe/words.c"
if [ -z "$(unguarded "$probe/words.c")" ]; then passed=$((passed+1)); else
    failed=$((failed+1)); echo "FAIL: the check counts comments or strings"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
