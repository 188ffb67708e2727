# Cross build for 64-bit Windows with mingw-w64 (Debian: gcc-mingw-w64-x86-64),
# tests run under Wine (Debian: wine64):
#   cmake -S . -B build-win -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake
#   cmake --build build-win -j2 && (cd build-win && ctest)
# CMAKE_CROSSCOMPILING_EMULATOR makes ctest run every test executable
# through cmake/wine-run.sh (a private, headless Wine prefix; see there).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(TMPF_MINGW_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${TMPF_MINGW_TRIPLE}-gcc)
set(CMAKE_RC_COMPILER ${TMPF_MINGW_TRIPLE}-windres)
find_program(TMPF_MINGW_AR ${TMPF_MINGW_TRIPLE}-ar)
if(TMPF_MINGW_AR)
  set(CMAKE_AR ${TMPF_MINGW_AR} CACHE FILEPATH "")
endif()
set(CMAKE_FIND_ROOT_PATH /usr/${TMPF_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
# Static C runtime and winpthreads: without it every program needs
# libwinpthread-1.dll and libgcc_s beside it, and Wine exits 53 silently.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static-libgcc")
set(CMAKE_CROSSCOMPILING_EMULATOR ${CMAKE_CURRENT_LIST_DIR}/wine-run.sh)
