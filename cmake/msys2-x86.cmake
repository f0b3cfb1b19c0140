# Native 32-bit build on Windows, inside MSYS2's MINGW32 environment (the
# Windows job, .github/workflows/windows.yml); cmocka from MSYS2's
# mingw-w64-i686-cmocka package.
set(PEERLSP_ARCH x86)
set(CMAKE_C_COMPILER gcc)
set(CMAKE_RC_COMPILER windres)
