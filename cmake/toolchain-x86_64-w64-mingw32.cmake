# Cross toolchain for 64-bit Windows with MinGW-w64. Tests run under wine64.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR AMD64)
set(PEERLSP_TRIPLET x86_64-w64-mingw32)
set(PEERLSP_ARCH x64)
set(CMAKE_C_COMPILER ${PEERLSP_TRIPLET}-gcc)
set(CMAKE_RC_COMPILER ${PEERLSP_TRIPLET}-windres)
# cmocka, built by scripts/bootstrap.sh, lives in .deps/x64 beside the system root.
set(CMAKE_FIND_ROOT_PATH /usr/${PEERLSP_TRIPLET} ${CMAKE_CURRENT_LIST_DIR}/../.deps/x64)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# CTest runs every Windows test binary through Wine; its own chatter is off.
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/env;WINEDEBUG=-all;wine)
