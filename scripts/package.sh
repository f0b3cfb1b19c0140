#!/usr/bin/env bash
# Builds dist/peerlsp-<version>-x64.msi from installer/peerlsp.wxs with wixl.
# The version comes from the one place it is kept: project() in CMakeLists.txt.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^project(peerlsp VERSION \([0-9.]*\).*/\1/p' "$top/CMakeLists.txt")
[ -n "$version" ] || { echo "package: no version in CMakeLists.txt" >&2; exit 1; }
for f in x64/peerlsp.dll x86/peerlsp.dll x64/peerlsp-ctl.exe x86/peerlsp-ctl.exe; do
  [ -f "$top/dist/$f" ] || { echo "package: dist/$f missing (make build first)" >&2; exit 1; }
done
out="$top/dist/peerlsp-$version-x64.msi"
# wixl resolves only relative source paths, from the current directory.
cd "$top"
wixl -a x64 -D Version="$version" -D DistDir=dist -o "$out" installer/peerlsp.wxs
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
  v=$("$top/scripts/pe-version.sh" "$top/dist/$file") ||
    { echo "package: dist/$file has no VERSIONINFO" >&2; exit 1; }
  msibuild "$out" -q "UPDATE File SET Version = '$v' WHERE File = '$id'"
done <<'LIST'
peerlsp64.dll x64/peerlsp.dll
peerlsp32.dll x86/peerlsp.dll
peerlsp_ctl.exe x64/peerlsp-ctl.exe
peerlsp_ctl_x86.exe x86/peerlsp-ctl.exe
LIST
msibuild "$out" -q "UPDATE Property SET Value = 'PEERLSP_REGISTER;PEERLSP_UNREGISTER;WIX_DOWNGRADE_DETECTED;WIX_UPGRADE_DETECTED' WHERE Property = 'SecureCustomProperties'"
echo "package: $out"
