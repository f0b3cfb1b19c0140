#!/usr/bin/env bash
# peerlsp in the real catalogs, for the Windows job:
#   scripts/windows/lsp.sh install LOGDIR    copies dist/x64 and dist/x86 to
#       C:\peerlsp-ci, installs into both catalogs with the x64 peerlsp-ctl,
#       verifies, turns peerlsp's trace on (HKLM\SOFTWARE\peerlsp Trace = 1,
#       in the 64-bit and the 32-bit registry view)
#   scripts/windows/lsp.sh uninstall LOGDIR  uninstalls, checks that nothing
#       of peerlsp is left, turns the trace off
# peerlsp-ctl's output goes to LOGDIR/ctl-*.log.
set -euo pipefail
what=${1:?usage: lsp.sh install|uninstall LOGDIR}
logs=${2:?usage: lsp.sh install|uninstall LOGDIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$logs"
# Windows' own tools take /options: MSYS2 must not turn them into paths.
export MSYS2_ARG_CONV_EXCL='*'
dest=/c/peerlsp-ci
ctl="$dest/x64/peerlsp-ctl.exe"
run() { # name command...: runs, logs, fails on a non-zero exit
  local name=$1; shift
  echo "== $*"
  if "$@" > "$logs/ctl-$name.log" 2>&1; then cat "$logs/ctl-$name.log"; else
    local st=$?; cat "$logs/ctl-$name.log"; echo "lsp: $name failed ($st)" >&2; exit 1; fi
}
case $what in
  install)
    mkdir -p "$dest/x64" "$dest/x86"
    cp "$top"/dist/x64/peerlsp.dll "$top"/dist/x64/peerlsp-ctl.exe "$dest/x64/"
    cp "$top"/dist/x86/peerlsp.dll "$dest/x86/"
    run install "$ctl" install --dll 'C:\peerlsp-ci\x64\peerlsp.dll' \
        --dll32 'C:\peerlsp-ci\x86\peerlsp.dll'
    run verify-installed "$ctl" verify
    run list-installed "$ctl" list
    # Both registry views: a 32-bit process (the x86 DLL) reads
    # HKLM\SOFTWARE through WOW6432Node.
    for view in 64 32; do
      reg add 'HKLM\SOFTWARE\peerlsp' /v Trace /t REG_DWORD /d 1 /f /reg:$view
    done
    ;;
  uninstall)
    run uninstall "$ctl" uninstall
    "$ctl" status > "$logs/ctl-status-uninstalled.log" 2>&1 || true
    if "$ctl" verify > "$logs/ctl-verify-uninstalled.log" 2>&1; then
      echo "lsp: peerlsp-ctl verify still passes after uninstall" >&2; exit 1; fi
    for view in 64 32; do
      reg delete 'HKLM\SOFTWARE\peerlsp' /v Trace /f /reg:$view
    done
    ;;
  *) echo "usage: lsp.sh install|uninstall LOGDIR" >&2; exit 1 ;;
esac
