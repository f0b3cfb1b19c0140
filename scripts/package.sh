#!/usr/bin/env bash
# Builds dist/peerlsp-<version>-x64.msi from installer/peerlsp.wxs with wixl.
# The version comes from the one place it is kept: project() in CMakeLists.txt.
#
# Authenticode signing (osslsigncode), when a certificate is given:
#   PEERLSP_SIGN_CERT   the certificate (chain), PEM or DER
#   PEERLSP_SIGN_KEY    its private key (PEM or DER, unencrypted)
#   or PEERLSP_SIGN_PKCS12 a .pfx/.p12 file, with PEERLSP_SIGN_PASS its password
#   PEERLSP_SIGN_TIMESTAMP  an RFC 3161 time-stamping URL (optional; needs network)
# The two DLLs and the two tools are signed as copies in build/package/ (dist/
# stays as built), packaged from there, and the MSI is signed last.
# PEERLSP_PACKAGE_OUT: where the MSI goes (default dist/peerlsp-<version>-x64.msi).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^project(peerlsp VERSION \([0-9.]*\).*/\1/p' "$top/CMakeLists.txt")
[ -n "$version" ] || { echo "package: no version in CMakeLists.txt" >&2; exit 1; }
for f in x64/peerlsp.dll x86/peerlsp.dll x64/peerlsp-ctl.exe x86/peerlsp-ctl.exe; do
  [ -f "$top/dist/$f" ] || { echo "package: dist/$f missing (make build first)" >&2; exit 1; }
done
out=${PEERLSP_PACKAGE_OUT:-$top/dist/peerlsp-$version-x64.msi}
binaries="x64/peerlsp.dll x86/peerlsp.dll x64/peerlsp-ctl.exe x86/peerlsp-ctl.exe"

sign_args=()
if [ -n "${PEERLSP_SIGN_PKCS12:-}" ]; then
  sign_args=(-pkcs12 "$PEERLSP_SIGN_PKCS12" -pass "${PEERLSP_SIGN_PASS:-}")
elif [ -n "${PEERLSP_SIGN_CERT:-}${PEERLSP_SIGN_KEY:-}" ]; then
  [ -n "${PEERLSP_SIGN_CERT:-}" ] && [ -n "${PEERLSP_SIGN_KEY:-}" ] ||
    { echo "package: PEERLSP_SIGN_CERT and PEERLSP_SIGN_KEY go together" >&2; exit 1; }
  sign_args=(-certs "$PEERLSP_SIGN_CERT" -key "$PEERLSP_SIGN_KEY")
fi
[ -z "${PEERLSP_SIGN_TIMESTAMP:-}" ] || sign_args+=(-ts "$PEERLSP_SIGN_TIMESTAMP")
sign() { # in out
  command -v osslsigncode >/dev/null || { echo "package: osslsigncode missing" >&2; return 1; }
  rm -f "$2"
  osslsigncode sign "${sign_args[@]}" -n peerlsp -i https://github.com/ -h sha256 \
    -in "$1" -out "$2" >/dev/null ||
    { echo "package: signing $1 failed (see osslsigncode's message above)" >&2; rm -f "$2"; return 1; }
}

# wixl resolves only relative source paths, from the current directory.
cd "$top"
src=dist
if [ ${#sign_args[@]} -gt 0 ]; then
  src=build/package
  rm -rf "$src"
  mkdir -p "$src/x64" "$src/x86"
  for f in $binaries; do
    sign "dist/$f" "$src/$f"
  done
fi
rm -f "$out"
# Built under a temporary name: a failure below leaves no MSI behind.
tmp_out="$out.tmp"
trap 'rm -f "$tmp_out" "$tmp_out.signed"' EXIT
wixl -a x64 -D Version="$version" -D DistDir="$src" -o "$tmp_out" installer/peerlsp.wxs
out_final=$out
out=$tmp_out
# What wixl cannot say in the .wxs:
# - Execute="rollback": the CustomAction Type bits (Microsoft's names,
#   "Custom Action In-Script Execution Options" and "Custom Action Return
#   Processing Options"). The rollback bit (256) means "rollback" only
#   together with InScript (1024); without it, 256 is FirstSequence and
#   the action runs at once, never on rollback.
# - PEERLSP_REGISTER and PEERLSP_UNREGISTER must reach the elevated side
#   of the install from the command line: they join SecureCustomProperties.
msidbCustomActionTypeExe=2
msidbCustomActionTypeSourceFile=16
msidbCustomActionTypeContinue=64
msidbCustomActionTypeRollback=256
msidbCustomActionTypeInScript=1024
msidbCustomActionTypeNoImpersonate=2048
rollback_type=$((msidbCustomActionTypeExe | msidbCustomActionTypeSourceFile |
                 msidbCustomActionTypeContinue | msidbCustomActionTypeRollback |
                 msidbCustomActionTypeInScript | msidbCustomActionTypeNoImpersonate))
for action in PeerlspRegisterRollback PeerlspUnregisterRollback PeerlspUnregisterRollback32; do
  msibuild "$out" -q "UPDATE CustomAction SET Type = $rollback_type WHERE Action = '$action'"
done
# - Same-version upgrades: every build gets a new ProductCode, so a rebuild
#   of the same version must replace the installed one, not install beside
#   it: the upgrade row's upper bound becomes inclusive
#   (msidbUpgradeAttributesVersionMaxInclusive), as WiX's
#   AllowSameVersionUpgrades does; the downgrade row's lower bound stays
#   exclusive, so the same version is no downgrade.
#   Attributes is part of the Upgrade table's key, which libmsi cannot
#   UPDATE: the row is written again.
msidbUpgradeAttributesMigrateFeatures=1
msidbUpgradeAttributesVersionMaxInclusive=512
upgrade_row() { msiinfo export "$out" Upgrade | tr -d '\r' | awk -F'\t' -v f="$1" '$7 == "WIX_UPGRADE_DETECTED" { print $f }'; }
upgrade_code=$(upgrade_row 1)
upgrade_max=$(upgrade_row 3)
[ -n "$upgrade_code" ] && [ "$upgrade_max" = "$version" ] ||
  { echo "package: no upgrade row for $version in the Upgrade table" >&2; exit 1; }
msibuild "$out" -q "DELETE FROM \`Upgrade\` WHERE \`ActionProperty\` = 'WIX_UPGRADE_DETECTED'" \
  -q "INSERT INTO \`Upgrade\` (\`UpgradeCode\`, \`VersionMax\`, \`Attributes\`, \`ActionProperty\`)
      VALUES ('$upgrade_code', '$version',
              $((msidbUpgradeAttributesMigrateFeatures | msidbUpgradeAttributesVersionMaxInclusive)),
              'WIX_UPGRADE_DETECTED')"
# - Versioned files: each file's Version is its own VERSIONINFO, so that
#   Windows Installer replaces files by version, not by date.
while read -r id file; do
  v=$("$top/scripts/pe-version.sh" "$top/$src/$file") ||
    { echo "package: dist/$file has no VERSIONINFO" >&2; exit 1; }
  msibuild "$out" -q "UPDATE File SET Version = '$v' WHERE File = '$id'"
done <<'LIST'
peerlsp64.dll x64/peerlsp.dll
peerlsp32.dll x86/peerlsp.dll
peerlsp_ctl.exe x64/peerlsp-ctl.exe
peerlsp_ctl_x86.exe x86/peerlsp-ctl.exe
LIST
msibuild "$out" -q "UPDATE Property SET Value = 'PEERLSP_REGISTER;PEERLSP_UNREGISTER;WIX_DOWNGRADE_DETECTED;WIX_UPGRADE_DETECTED' WHERE Property = 'SecureCustomProperties'"
if [ ${#sign_args[@]} -gt 0 ]; then
  sign "$out" "$out.signed"
  mv "$out.signed" "$out"
fi
mv "$out" "$out_final"
echo "package: $out_final${sign_args:+ (signed)}"
