#!/usr/bin/env bash
# test_msi.sh MSI - the package under Wine's msiexec, as an administrator
# would use it:
#  1. /i PEERLSP_REGISTER=0 /qn puts every file in place (byte-identical to
#     dist/) and registers the product, without running peerlsp-ctl;
#  2. /x /qn runs `peerlsp-ctl uninstall` and removes every file and the
#     product entry;
#  3. a default /i /qn runs `peerlsp-ctl install`, which honestly fails on
#     Wine's do-nothing catalog (exit 5): the install rolls back and leaves no
#     file and no product entry behind, and the rollback runs the
#     unregistering rollback action (the install's log shows it after the
#     failed registration);
#  4. /x PEERLSP_UNREGISTER=0 removes the files without running
#     `peerlsp-ctl uninstall`; a default /x runs it;
#  5. the tables (files, directories, custom actions, their type bits read
#     by Microsoft's names, and their conditions), read with msiinfo, say
#     what Wine cannot show.
set -u
msi=$1
dist=$(cd "$(dirname "$msi")" && pwd)
export WINEDEBUG=-all
prefix=${WINEPREFIX:-$HOME/.wine}
sys64="$prefix/drive_c/windows/system32/peerlsp.dll"
sys32="$prefix/drive_c/windows/syswow64/peerlsp.dll"
ctl="$prefix/drive_c/Program Files/peerlsp/peerlsp-ctl.exe"
ctl32="$prefix/drive_c/Program Files (x86)/peerlsp/peerlsp-ctl.exe"
winmsi="Z:$(echo "$msi" | tr / '\\')"
passed=0 failed=0

check() { # description, command...
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $what"; fi
}
registered() {
  wine reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall' /s 2>/dev/null |
    tr -d '\r' | grep -q 'DisplayName.*REG_SZ.*peerlsp$'
}
not_registered() { ! registered; }
no_files() { [ ! -e "$sys64" ] && [ ! -e "$sys32" ] && [ ! -e "$ctl" ] && [ ! -e "$ctl32" ]; }
files_match() {
  cmp -s "$sys64" "$dist/x64/peerlsp.dll" && cmp -s "$sys32" "$dist/x86/peerlsp.dll" &&
    cmp -s "$ctl" "$dist/x64/peerlsp-ctl.exe" && cmp -s "$ctl32" "$dist/x86/peerlsp-ctl.exe"
}
msiexec() { wine msiexec "$@"; }

[ -f "$msi" ] || { echo "no package at $msi (make package builds it)"; exit 1; }
# Every installed peerlsp product, by ProductCode (an older build of the
# package has another one), removed: a previous run that died half-way
# must not decide this one.
remove_every_product() {
  local code
  for code in $(wine reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall' /s 2>/dev/null |
                tr -d '\r' | awk '/\\Uninstall\\\{/ { key = $0; sub(/.*\\/, "", key) }
                                 /DisplayName.*REG_SZ.*peerlsp$/ { print key }'); do
    wine msiexec /x "$code" /qn >/dev/null 2>&1
  done
}
remove_every_product

msiexec /i "$winmsi" PEERLSP_REGISTER=0 /qn; rc=$?
# Exit 0 also proves peerlsp-ctl install did not run: on Wine it fails (5)
# and the install would roll back (step 3).
check "install with PEERLSP_REGISTER=0 exits 0 (got $rc)" [ $rc = 0 ]
check "x64 DLL, x86 DLL and both peerlsp-ctl installed, identical to dist/" files_match
check "product registered after install" registered

msiexec /x "$winmsi" /qn; rc=$?
check "uninstall exits 0 (got $rc)" [ $rc = 0 ]
check "no file left after uninstall" no_files
check "product entry gone after uninstall" not_registered

log=$(mktemp -d)/msi.log
winlog="Z:$(echo "$log" | tr / '\\')"
# The lines "Action start TIME: NAME." of a log, in order, one name each.
actions() { tr -d '\r' < "$log" | sed -n 's/^Action start [0-9:]*: \([A-Za-z_]*\)\.$/\1/p'; }
# Whether action $2 starts after the last start of action $1 in the log.
starts_after() { actions | awk -v a="$1" -v b="$2" '$0 == a { seen = 1; after = 0 } seen && $0 == b { after = 1 } END { exit !after }'; }
ran() { actions | grep -qx "$1"; }
not_ran() { ! ran "$1"; }

msiexec /i "$winmsi" /qn /l*v "$winlog"; rc=$?
check "default install fails on Wine's do-nothing catalog (got $rc)" [ $rc != 0 ]
check "failed install rolled back: no file left" no_files
check "failed install rolled back: no product entry" not_registered
# With the rollback bit but without InScript (type 2386) the action ran
# when the script was built, before the registration, and never again.
check "failed install ran PeerlspRegisterRollback after the failed PeerlspRegister" \
  starts_after PeerlspRegister PeerlspRegisterRollback

msiexec /i "$winmsi" PEERLSP_REGISTER=0 /qn; rc=$?
check "files-only install again exits 0 (got $rc)" [ $rc = 0 ]
msiexec /x "$winmsi" PEERLSP_UNREGISTER=0 /qn /l*v "$winlog"; rc=$?
check "removal with PEERLSP_UNREGISTER=0 exits 0 (got $rc)" [ $rc = 0 ]
check "PEERLSP_UNREGISTER=0: peerlsp-ctl uninstall not run" not_ran PeerlspUnregister
check "PEERLSP_UNREGISTER=0: no file left" no_files
check "PEERLSP_UNREGISTER=0: product entry gone" not_registered
msiexec /i "$winmsi" PEERLSP_REGISTER=0 /qn >/dev/null 2>&1
# peerlsp's key, as an administrator who turned tracing on leaves it.
wine reg add 'HKLM\SOFTWARE\peerlsp' /v Trace /t REG_DWORD /d 1 /f >/dev/null 2>&1
key_gone() { ! wine reg query 'HKLM\SOFTWARE\peerlsp' >/dev/null 2>&1; }
msiexec /x "$winmsi" /qn /l*v "$winlog"; rc=$?
check "default removal exits 0 (got $rc)" [ $rc = 0 ]
check "default removal ran peerlsp-ctl uninstall" ran PeerlspUnregister
check "default removal: no file left" no_files
check "default removal: HKLM\\SOFTWARE\\peerlsp removed" key_gone
rm -rf "$(dirname "$log")"

# msiinfo writes tables in IDT form, with CRLF line ends.
tables() { msiinfo export "$msi" "$1" | tr -d '\r'; }
export -f tables
export msi

# The same version built again (a new ProductCode, as every build gets)
# replaces the installed one instead of installing beside it.
products() {
  wine reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall' /s 2>/dev/null |
    tr -d '\r' | grep -c 'DisplayName.*REG_SZ.*peerlsp$'
}
product_code() { tables Property | awk -F'\t' '$1 == "ProductCode" { print $2 }'; }
msiexec /i "$winmsi" PEERLSP_REGISTER=0 /qn >/dev/null 2>&1
first_code=$(product_code)
"$(dirname "$0")/../../scripts/package.sh" >/dev/null
check "a rebuild of the same version has a new ProductCode" [ "$first_code" != "$(product_code)" ]
msiexec /i "$winmsi" PEERLSP_REGISTER=0 /qn; rc=$?
check "installing the rebuilt package exits 0 (got $rc)" [ $rc = 0 ]
check "one peerlsp product after a same-version upgrade (got $(products))" [ "$(products)" = 1 ]
check "the files are the rebuilt package's" files_match
msiexec /x "$winmsi" /qn >/dev/null 2>&1
check "after its removal: no file, no product" bash -c "[ $(products) = 0 ]"
check "after its removal: no file left" no_files

# Each file's Version in the File table is the one in its VERSIONINFO, so
# Windows Installer compares versions (not dates) when it replaces them.
file_version() { "$(dirname "$0")/../../scripts/pe-version.sh" "$1"; }
table_version() { tables File | awk -F'\t' -v f="$1" '$1 == f { print $5 }'; }
versions_match() {
  local id file
  while read -r id file; do
    local v; v=$(file_version "$dist/$file") || return 1
    [ -n "$v" ] && [ "$(table_version "$id")" = "$v" ] || { echo "  $id: table '$(table_version "$id")', file '$v'"; return 1; }
  done <<'LIST'
peerlsp64.dll x64/peerlsp.dll
peerlsp32.dll x86/peerlsp.dll
peerlsp_ctl.exe x64/peerlsp-ctl.exe
peerlsp_ctl_x86.exe x86/peerlsp-ctl.exe
LIST
}
check "File table versions are the files' own" versions_match
msidbUpgradeAttributesVersionMaxInclusive=512
upgrade_attrs() { tables Upgrade | awk -F'\t' -v p="$1" '$7 == p { print $5 }'; }
check "the upgrade row includes the same version (VersionMaxInclusive), the downgrade row does not" \
  bash -c "[ \$(( $(upgrade_attrs WIX_UPGRADE_DETECTED) & $msidbUpgradeAttributesVersionMaxInclusive )) != 0 ] &&
           [ -n '$(upgrade_attrs WIX_DOWNGRADE_DETECTED)' ]"
remove_every_product
check "four files in the File table" [ "$(tables File | tail -n +4 | wc -l)" = 4 ]
check "DLLs go to System64Folder and SystemFolder, the tool to Program Files" \
  bash -c "tables Component | grep -q 'LspDll64.*System64Folder' &&
           tables Component | grep -q 'LspDll32.*SystemFolder' &&
           tables Directory | grep -q 'ProgramFiles64Folder'"
# The CustomAction Type bits by Microsoft's names ("Custom Action Types",
# "... Return Processing Options", "... In-Script Execution Options").
# The low six bits are the action's kind: msidbCustomActionTypeExe (2) with
# msidbCustomActionTypeSourceFile (16) = 18, an installed executable.
msidbCustomActionTypeKindMask=63
msidbCustomActionTypeExeFromFile=18
msidbCustomActionTypeContinue=64
msidbCustomActionTypeRollback=256
msidbCustomActionTypeCommit=512
msidbCustomActionTypeInScript=1024
msidbCustomActionTypeNoImpersonate=2048
ca_type() { tables CustomAction | awk -F'\t' -v a="$1" '$1 == a { print $2 }'; }
ca_target() { tables CustomAction | awk -F'\t' -v a="$1" '$1 == a { print $3 " " $4 }'; }
# action, then the names of the bits it must have, then "not" and the ones it must lack.
type_bits() {
  local t; t=$(ca_type "$1"); shift
  [ -n "$t" ] || return 1
  [ $((t & msidbCustomActionTypeKindMask)) = $msidbCustomActionTypeExeFromFile ] || return 1
  local want=1 bit
  for bit in "$@"; do
    if [ "$bit" = not ]; then want=0; continue; fi
    local v=$((msidbCustomActionType$bit))
    if [ $want = 1 ]; then [ $((t & v)) = $v ] || return 1; else [ $((t & v)) = 0 ] || return 1; fi
  done
}
seq_of() { tables InstallExecuteSequence | awk -F'\t' -v a="$1" '$1 == a { print $3 }'; }
cond_of() { tables InstallExecuteSequence | awk -F'\t' -v a="$1" '$1 == a { print $2 }'; }
check "register action: deferred (InScript), not impersonated, exit code checked" \
  type_bits PeerlspRegister InScript NoImpersonate not Rollback Commit Continue
check "unregister action: deferred (InScript), not impersonated, exit code checked" \
  type_bits PeerlspUnregister InScript NoImpersonate not Rollback Commit Continue
check "register's rollback twin: InScript + Rollback, not impersonated, exit code ignored" \
  type_bits PeerlspRegisterRollback InScript Rollback NoImpersonate Continue not Commit
check "unregister's rollback twin: InScript + Rollback, not impersonated, exit code ignored" \
  type_bits PeerlspUnregisterRollback InScript Rollback NoImpersonate Continue not Commit
check "x86 register action: deferred (InScript), not impersonated, exit code checked" \
  type_bits PeerlspRegister32 InScript NoImpersonate not Rollback Commit Continue
check "unregister's x86 rollback twin: InScript + Rollback, not impersonated, exit code ignored" \
  type_bits PeerlspUnregisterRollback32 InScript Rollback NoImpersonate Continue not Commit
# Where WSCInstallProvider64_32 is missing the x64 tool registers the
# 64-bit catalog only when told that the x86 tool does the other one next
# (issue 11 item 7): never half-way in silence.
check "the x64 tool leaves the 32-bit catalog to the x86 tool, which runs next" \
  bash -c "[[ \"$(ca_target PeerlspRegister)\" == *' --32bit-by-x86-tool' ]] &&
           [[ \"$(ca_target PeerlspUnregisterRollback)\" == *' --32bit-by-x86-tool' ]] &&
           [[ \"$(ca_target PeerlspRegister32)\" == 'peerlsp_ctl_x86.exe install --dll'* ]] &&
           [[ \"$(ca_target PeerlspUnregisterRollback32)\" == 'peerlsp_ctl_x86.exe install --dll'* ]] &&
           [ $(seq_of PeerlspRegister) -lt $(seq_of PeerlspRegister32) ] &&
           [ $(seq_of PeerlspUnregisterRollback32) -lt $(seq_of PeerlspUnregister) ] &&
           [ '$(cond_of PeerlspRegister32)' = '$(cond_of PeerlspRegister)' ] &&
           [ '$(cond_of PeerlspUnregisterRollback32)' = '$(cond_of PeerlspUnregister)' ]"
check "the x86 tool goes to the 32-bit Program Files" \
  bash -c "tables Component | grep -qP '^CtlX86\t[^\t]*\tINSTALLDIR32\t' &&
           tables Directory | grep -qP '^INSTALLDIR32\tProgramFilesFolder\t'"
check "register runs peerlsp-ctl install, its rollback peerlsp-ctl uninstall" \
  bash -c "[[ \"$(ca_target PeerlspRegister)\" == 'peerlsp_ctl.exe install --dll'* ]] &&
           [ \"$(ca_target PeerlspRegisterRollback)\" = 'peerlsp_ctl.exe uninstall' ]"
check "unregister runs peerlsp-ctl uninstall --purge, its rollback peerlsp-ctl install" \
  bash -c "[ \"$(ca_target PeerlspUnregister)\" = 'peerlsp_ctl.exe uninstall --purge' ] &&
           [[ \"$(ca_target PeerlspUnregisterRollback)\" == 'peerlsp_ctl.exe install --dll'* ]]"
check "each rollback twin is sequenced before its action, under the same condition" \
  bash -c "[ $(seq_of PeerlspRegisterRollback) -lt $(seq_of PeerlspRegister) ] &&
           [ $(seq_of PeerlspUnregisterRollback) -lt $(seq_of PeerlspUnregister) ] &&
           [ '$(cond_of PeerlspRegisterRollback)' = '$(cond_of PeerlspRegister)' ] &&
           [ '$(cond_of PeerlspUnregisterRollback)' = '$(cond_of PeerlspUnregister)' ]"
check "register only when installing and PEERLSP_REGISTER is not 0" \
  bash -c "tables InstallExecuteSequence | grep -qP '^PeerlspRegister\tNOT REMOVE AND PEERLSP_REGISTER <> \"0\"\t'"
check "PEERLSP_REGISTER and PEERLSP_UNREGISTER reach the elevated side" \
  bash -c "tables Property | grep -P '^SecureCustomProperties\t' | grep -q 'PEERLSP_REGISTER;PEERLSP_UNREGISTER'"
check "older version removed right after InstallValidate (major upgrade)" \
  bash -c "tables InstallExecuteSequence | grep -qP '^RemoveExistingProducts\t\t1401'"
check "unregister before RemoveFiles on a full removal, unless PEERLSP_UNREGISTER=0" \
  bash -c "seq=\$(tables InstallExecuteSequence);
           u=\$(echo \"\$seq\" | grep -P '^PeerlspUnregister\tREMOVE ~= \"ALL\" AND PEERLSP_UNREGISTER <> \"0\"\t' | cut -f3);
           r=\$(echo \"\$seq\" | grep -P '^RemoveFiles\t' | cut -f3); [ -n \"\$u\" ] && [ \"\$u\" -lt \"\$r\" ]"
check "major upgrades: a stable UpgradeCode" \
  bash -c "tables Property | grep -qi 'UpgradeCode.*{6A7B9E59-208D-4DF0-93B3-7F4E265A7108}'"

echo "$passed passed, $failed failed"
[ $failed = 0 ]
