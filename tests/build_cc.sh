# Sourced by shell tests that compile programs against the built library:
# sets $cc and the array ccflags to the compiler and sanitizers the library
# was built with, since a musl or AddressSanitizer build cannot be linked by
# the system's plain cc. Needs $TMPF_BINARY_DIR and $TMPF_SOURCE_DIR.
cache="$TMPF_BINARY_DIR/CMakeCache.txt"
cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$cache" 2>/dev/null)
cc=${cc:-${CC:-cc}}
san=$(sed -n 's/^TMPF_SANITIZE:[A-Z]*=//p' "$cache" 2>/dev/null)
ccflags=(-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I"$TMPF_SOURCE_DIR/include")
if [ -n "$san" ]; then ccflags+=(-fsanitize="$san" -fno-omit-frame-pointer); fi
