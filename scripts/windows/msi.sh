#!/usr/bin/env bash
# The MSI (built on Linux by scripts/package.sh, passed in as an artifact)
# installed and removed for real, for the Windows job:
#   scripts/windows/msi.sh MSI LOGDIR
# msiexec /i /qn (a default install registers peerlsp in both catalogs
# through peerlsp-ctl), the installed peerlsp-ctl verifies it, msiexec /x
# /qn removes it, and verify must then fail. Verbose MSI logs in LOGDIR.
set -euo pipefail
msi=${1:?usage: msi.sh MSI LOGDIR}
logs=${2:?usage: msi.sh MSI LOGDIR}
mkdir -p "$logs"
export MSYS2_ARG_CONV_EXCL='*'
winmsi=$(cygpath -w "$msi")
winlogs=$(cygpath -w "$logs")
pf=$(cygpath -u "${PROGRAMW6432:-C:\\Program Files}")
# msiexec: 0, or 3010 (done; a reboot finishes replacing a file in use).
msiexec_ok() {
  local st=0
  msiexec "$@" || st=$?
  case $st in
    0) ;;
    3010) echo "msi: msiexec $1: done, a reboot would finish it (3010)" ;;
    *) echo "msi: msiexec $1 failed ($st)" >&2; exit 1 ;;
  esac
}
echo "== msiexec /i $winmsi /qn"
msiexec_ok /i "$winmsi" /qn '/l*v' "$winlogs\\msi-install.log"
ctl=$(ls "$pf"/peerlsp/peerlsp-ctl.exe "$pf"/peerlsp/*/peerlsp-ctl.exe 2>/dev/null | head -n 1 || true)
[ -n "$ctl" ] || { echo "msi: no peerlsp-ctl.exe under $pf/peerlsp" >&2; exit 1; }
"$ctl" verify > "$logs/msi-verify-installed.log" 2>&1 ||
  { cat "$logs/msi-verify-installed.log"; echo "msi: verify after install failed" >&2; exit 1; }
"$ctl" list > "$logs/msi-list-installed.log" 2>&1 || true
echo "== msiexec /x $winmsi /qn"
msiexec_ok /x "$winmsi" /qn '/l*v' "$winlogs\\msi-remove.log"
[ ! -e "$ctl" ] || { echo "msi: $ctl still there after removal" >&2; exit 1; }
echo "msi: installed, verified, removed"
