#!/usr/bin/env bash
# Installs what peerlsp needs to build and test on Debian 12, and nothing that
# is already there. Safe to run again: a second run only checks.
#
#   scripts/bootstrap.sh            build and test prerequisites
#   scripts/bootstrap.sh bench      also what `make bench` and `make fuzz` need
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
deps="$top/.deps"
want=${1:-base}

say() { printf 'bootstrap: %s\n' "$*"; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }

# command -> Debian package that provides it
declare -A pkg_for=(
  [cmake]=cmake
  [make]=make
  [x86_64-w64-mingw32-gcc]=gcc-mingw-w64-x86-64
  [i686-w64-mingw32-gcc]=gcc-mingw-w64-i686
  [x86_64-w64-mingw32-objdump]=binutils-mingw-w64-x86-64
  [i686-w64-mingw32-objdump]=binutils-mingw-w64-i686
  [wine]=wine
  [wine64]=wine64
  [dpkg-source]=dpkg-dev
  [dpkg-parsechangelog]=dpkg-dev
  # make conformance: patches and reports on Wine's conformance tests.
  [patch]=patch
  [python3]=python3
  [xz]=xz-utils
  # make test builds and installs the MSI under Wine.
  [gcc]=gcc
  [wixl]=wixl
  [msiinfo]=msitools
  [msibuild]=msitools
  # make package signs with Authenticode when given a certificate; the
  # test makes a throwaway one.
  [osslsigncode]=osslsigncode
  [openssl]=openssl
)
if [ "$want" = bench ]; then
  # Fuzzing and instruction counts of the native connection table.
  pkg_for[clang]=clang
  pkg_for[valgrind]=valgrind
fi

missing=()
for cmd in "${!pkg_for[@]}"; do
  if [ "$cmd" = wine64 ]; then
    # Debian's wine64 package puts the loader under /usr/lib/wine only.
    [ -x /usr/lib/wine/wine64 ] || missing+=("${pkg_for[$cmd]}")
  elif ! command -v "$cmd" >/dev/null 2>&1; then
    missing+=("${pkg_for[$cmd]}")
  fi
done
if [ "$want" = bench ] && [ ! -e /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a ] \
   && ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  missing+=(libclang-rt-14-dev)
fi
# The native build of the connection table (part of make test) uses
# Debian's own cmocka.
if [ ! -f /usr/include/cmocka.h ]; then
  missing+=(libcmocka-dev)
fi
# make test checks the Windows workflow's YAML with Debian's parser.
if ! python3 -c 'import yaml' >/dev/null 2>&1; then
  missing+=(python3-yaml)
fi
# gcc alone does not bring the C library's headers and start files (a
# minimal Debian 12 has none; seen in a debootstrap --variant=minbase root).
if [ ! -f /usr/include/stdio.h ]; then
  missing+=(libc6-dev)
fi

need_apt_update=1
apt_update_once() {
  if [ $need_apt_update = 1 ]; then
    say "apt-get update"
    apt-get update -qq
    need_apt_update=0
  fi
}

if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  [ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}); run as root or install them: apt-get install ${missing[*]}"
  apt_update_once
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's source packages: cmocka (below) and wine (make conformance) come
# from them.
ensure_deb_src() {
  if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
    [ "$(id -u)" = 0 ] || die "no deb-src entry for apt-get source; run as root"
    say "adding a deb-src entry for Debian's source packages"
    cat > /etc/apt/sources.list.d/peerlsp-deb-src.sources <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    need_apt_update=1
    apt_update_once
  fi
}
ensure_deb_src

# cmocka for MinGW, built from Debian's own source package so that the test
# framework comes from the distribution, not from an unpinned download.
build_cmocka() {
  local arch=$1 triplet=$2
  local prefix="$deps/$arch"
  [ -f "$prefix/lib/libcmocka-static.a" ] && return 0
  local src
  src=$(ls -d "$deps"/src/cmocka-*/ 2>/dev/null | head -n 1 || true)
  if [ -z "$src" ]; then
    apt_update_once
    mkdir -p "$deps/src"
    say "fetching Debian's cmocka source package"
    (cd "$deps/src" && apt-get source -qq cmocka >/dev/null 2>&1) || die "apt-get source cmocka failed"
    src=$(ls -d "$deps"/src/cmocka-*/ | head -n 1)
  fi
  say "building cmocka for $triplet"
  cat > "$deps/toolchain-$arch.cmake" <<TC
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_C_COMPILER $triplet-gcc)
set(CMAKE_RC_COMPILER $triplet-windres)
TC
  rm -rf "$deps/build-cmocka-$arch"
  cmake -S "$src" -B "$deps/build-cmocka-$arch" -DCMAKE_TOOLCHAIN_FILE="$deps/toolchain-$arch.cmake" \
        -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_BUILD_TYPE=Release -DWITH_STATIC_LIB=ON \
        -DWITH_EXAMPLES=OFF -DUNIT_TESTING=OFF >/dev/null
  cmake --build "$deps/build-cmocka-$arch" -j "$(nproc)" >/dev/null
  cmake --install "$deps/build-cmocka-$arch" >/dev/null
  rm -rf "$deps/build-cmocka-$arch"
  [ -f "$prefix/lib/libcmocka-static.a" ] || die "cmocka for $triplet did not install"
}
build_cmocka x64 x86_64-w64-mingw32
build_cmocka x86 i686-w64-mingw32

# A Wine prefix made up front, so that the first test does not pay for it.
if [ ! -f "${WINEPREFIX:-$HOME/.wine}/system.reg" ]; then
  say "creating the Wine prefix"
  WINEDEBUG=-all wineboot -i >/dev/null 2>&1 || die "wineboot -i failed"
fi
exit 0
