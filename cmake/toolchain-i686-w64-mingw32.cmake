# Cross toolchain for 32-bit Windows with MinGW-w64. 32-bit Wine cannot be
# installed on the build machines, so these binaries are compiled and
# inspected (see tests/pe), never run: no emulator is set.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR X86)
set(PEERLSP_TRIPLET i686-w64-mingw32)
set(PEERLSP_ARCH x86)
set(CMAKE_C_COMPILER ${PEERLSP_TRIPLET}-gcc)
set(CMAKE_RC_COMPILER ${PEERLSP_TRIPLET}-windres)
# cmocka, built by scripts/bootstrap.sh, lives in .deps/x86 beside the system root.
set(CMAKE_FIND_ROOT_PATH /usr/${PEERLSP_TRIPLET} ${CMAKE_CURRENT_LIST_DIR}/../.deps/x86)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
