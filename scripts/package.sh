#!/usr/bin/env bash
# Builds dist/peerlsp-<version>-x64.msi from installer/peerlsp.wxs with wixl.
# The version comes from the one place it is kept: project() in CMakeLists.txt.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^project(peerlsp VERSION \([0-9.]*\).*/\1/p' "$top/CMakeLists.txt")
[ -n "$version" ] || { echo "package: no version in CMakeLists.txt" >&2; exit 1; }
for f in x64/peerlsp.dll x86/peerlsp.dll x64/peerlsp-ctl.exe; do
  [ -f "$top/dist/$f" ] || { echo "package: dist/$f missing (make build first)" >&2; exit 1; }
done
out="$top/dist/peerlsp-$version-x64.msi"
# wixl resolves only relative source paths, from the current directory.
cd "$top"
wixl -a x64 -D Version="$version" -D DistDir=dist -o "$out" installer/peerlsp.wxs
# What wixl cannot say in the .wxs:
# - Execute="rollback": type 18 + 256 (rollback) + 64 (ignore the exit code)
#   + 2048 (not impersonated) = 2386;
# - PEERLSP_REGISTER must reach the elevated side of the install from the
#   command line: it joins SecureCustomProperties.
msibuild "$out" -q "UPDATE CustomAction SET Type = 2386 WHERE Action = 'PeerlspRegisterRollback'"
msibuild "$out" -q "UPDATE Property SET Value = 'PEERLSP_REGISTER;WIX_DOWNGRADE_DETECTED;WIX_UPGRADE_DETECTED' WHERE Property = 'SecureCustomProperties'"
echo "package: $out"
