#!/usr/bin/env bash
# The Windows job's build (.github/workflows/windows.yml), in an MSYS2 shell:
#   scripts/windows/build.sh x64    in MINGW64
#   scripts/windows/build.sh x86    in MINGW32
# Configures and builds the msys2-<arch> preset (CMakePresets.json); the
# binaries are staged in dist/<arch> as on Linux.
set -euo pipefail
arch=${1:?usage: build.sh x64|x86}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
cmake --preset "msys2-$arch"
cmake --build --preset "msys2-$arch" -j 2
for f in peerlsp.dll peerlsp-ctl.exe; do
  [ -f "dist/$arch/$f" ] || { echo "build: dist/$arch/$f missing" >&2; exit 1; }
done
