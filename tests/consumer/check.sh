#!/usr/bin/env bash
# Installs tmpf into a scratch prefix and builds a consumer against it twice:
# with CMake's find_package(tmpf) and with pkg-config.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake -S "$src" -B "$work/build" -DTMPF_BUILD_TESTS=OFF -DTMPF_BUILD_BENCH=OFF >/dev/null
cmake --build "$work/build" -j2 >/dev/null
cmake --install "$work/build" --prefix "$work/prefix" >/dev/null
cmake -S "$src/tests/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/consumer" >/dev/null
LD_LIBRARY_PATH="$work/prefix/lib:$work/prefix/lib64" "$work/consumer/consumer"
libdir=$(dirname "$(find "$work/prefix" -name tmpf.pc)")
flags=$(PKG_CONFIG_PATH="$libdir" pkg-config --cflags --libs tmpf)
# Plain paths into the prefix installed to, no lib/pkgconfig/../..
case $flags in
*/../* | *pkgconfig*) echo "pkg-config paths are not plain: $flags"; exit 1 ;;
esac
case $flags in
*"-I$work/prefix/include"*"-L$work/prefix/lib"*) ;;
*) echo "pkg-config paths are not in $work/prefix: $flags"; exit 1 ;;
esac
PKG_CONFIG_PATH="$libdir" cc -o "$work/pc-consumer" "$src/tests/consumer/main.c" $flags
LD_LIBRARY_PATH="$work/prefix/lib:$work/prefix/lib64" "$work/pc-consumer"
echo "consumer: find_package and pkg-config both work"
