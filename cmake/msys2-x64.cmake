# Native 64-bit build on Windows, inside MSYS2's MINGW64 environment (the
# Windows job, .github/workflows/windows.yml). Not a cross toolchain: the
# host is Windows, so no CMAKE_SYSTEM_NAME and no emulator; cmocka comes
# from MSYS2's mingw-w64-x86_64-cmocka package.
set(PEERLSP_ARCH x64)
set(CMAKE_C_COMPILER gcc)
set(CMAKE_RC_COMPILER windres)
