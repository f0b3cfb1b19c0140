#!/usr/bin/env bash
# test_msi.sh MSI - the package under Wine's msiexec, as an administrator
# would use it:
#  1. /i PEERLSP_REGISTER=0 /qn puts every file in place (byte-identical to
#     dist/) and registers the product, without running peerlsp-ctl;
#  2. /x /qn runs `peerlsp-ctl uninstall` and removes every file and the
#     product entry;
#  3. a default /i /qn runs `peerlsp-ctl install`, which honestly fails on
#     Wine's do-nothing catalog (exit 5): the install rolls back and leaves no
#     file and no product entry behind;
#  4. the tables (files, directories, custom actions and their conditions),
#     read with msiinfo, say what Wine cannot show.
set -u
msi=$1
dist=$(cd "$(dirname "$msi")" && pwd)
export WINEDEBUG=-all
prefix=${WINEPREFIX:-$HOME/.wine}
sys64="$prefix/drive_c/windows/system32/peerlsp.dll"
sys32="$prefix/drive_c/windows/syswow64/peerlsp.dll"
ctl="$prefix/drive_c/Program Files/peerlsp/peerlsp-ctl.exe"
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
no_files() { [ ! -e "$sys64" ] && [ ! -e "$sys32" ] && [ ! -e "$ctl" ]; }
files_match() {
  cmp -s "$sys64" "$dist/x64/peerlsp.dll" && cmp -s "$sys32" "$dist/x86/peerlsp.dll" &&
    cmp -s "$ctl" "$dist/x64/peerlsp-ctl.exe"
}
msiexec() { wine msiexec "$@"; }

[ -f "$msi" ] || { echo "no package at $msi (make package builds it)"; exit 1; }
# A previous run that died half-way must not decide this one.
msiexec /x "$winmsi" /qn >/dev/null 2>&1

msiexec /i "$winmsi" PEERLSP_REGISTER=0 /qn; rc=$?
# Exit 0 also proves peerlsp-ctl install did not run: on Wine it fails (5)
# and the install would roll back (step 3).
check "install with PEERLSP_REGISTER=0 exits 0 (got $rc)" [ $rc = 0 ]
check "x64 DLL, x86 DLL and peerlsp-ctl installed, identical to dist/" files_match
check "product registered after install" registered

msiexec /x "$winmsi" /qn; rc=$?
check "uninstall exits 0 (got $rc)" [ $rc = 0 ]
check "no file left after uninstall" no_files
check "product entry gone after uninstall" not_registered

msiexec /i "$winmsi" /qn; rc=$?
check "default install fails on Wine's do-nothing catalog (got $rc)" [ $rc != 0 ]
check "failed install rolled back: no file left" no_files
check "failed install rolled back: no product entry" not_registered

# msiinfo writes tables in IDT form, with CRLF line ends.
tables() { msiinfo export "$msi" "$1" | tr -d '\r'; }
export -f tables
export msi
check "three files in the File table" [ "$(tables File | tail -n +4 | wc -l)" = 3 ]
check "DLLs go to System64Folder and SystemFolder, the tool to Program Files" \
  bash -c "tables Component | grep -q 'LspDll64.*System64Folder' &&
           tables Component | grep -q 'LspDll32.*SystemFolder' &&
           tables Directory | grep -q 'ProgramFiles64Folder'"
# Type 3090 = 18 (run an installed file) + 1024 (deferred) + 2048 (no impersonation);
# 2386 = 18 + 256 (rollback) + 64 (exit code ignored) + 2048 (scripts/package.sh sets it).
check "register action: deferred, not impersonated, exit code checked" \
  bash -c "tables CustomAction | grep -qP '^PeerlspRegister\t3090\tpeerlsp_ctl.exe\tinstall --dll'"
check "unregister action: deferred, not impersonated, exit code checked" \
  bash -c "tables CustomAction | grep -qP '^PeerlspUnregister\t3090\tpeerlsp_ctl.exe\tuninstall'"
check "rollback action: rollback, not impersonated" \
  bash -c "tables CustomAction | grep -qP '^PeerlspRegisterRollback\t2386\tpeerlsp_ctl.exe\tuninstall'"
check "register only when installing and PEERLSP_REGISTER is not 0" \
  bash -c "tables InstallExecuteSequence | grep -qP '^PeerlspRegister\tNOT REMOVE AND PEERLSP_REGISTER <> \"0\"\t'"
check "older version removed right after InstallValidate (major upgrade)" \
  bash -c "tables InstallExecuteSequence | grep -qP '^RemoveExistingProducts\t\t1401'"
check "unregister before RemoveFiles on a full removal" \
  bash -c "seq=\$(tables InstallExecuteSequence);
           u=\$(echo \"\$seq\" | grep -P '^PeerlspUnregister\tREMOVE ~= \"ALL\"\t' | cut -f3);
           r=\$(echo \"\$seq\" | grep -P '^RemoveFiles\t' | cut -f3); [ -n \"\$u\" ] && [ \"\$u\" -lt \"\$r\" ]"
check "major upgrades: a stable UpgradeCode" \
  bash -c "tables Property | grep -qi 'UpgradeCode.*{6A7B9E59-208D-4DF0-93B3-7F4E265A7108}'"

echo "$passed passed, $failed failed"
[ $failed = 0 ]
