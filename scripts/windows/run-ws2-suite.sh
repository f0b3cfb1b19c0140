#!/usr/bin/env bash
# Runs the end-to-end programs listed in tests/e2e/ws2_32-programs.txt in
# --ws2_32 mode (on this process's own ws2_32, through the installed
# peerlsp), from build/msys2-<arch>:
#   scripts/windows/run-ws2-suite.sh x64|x86 LOGDIR
# Each program's output goes to LOGDIR/ws2_32-<arch>-<program>.log. Fails
# when any program fails, when an x86 program is not a 32-bit executable,
# or when a program reports Wine (this script is for real Windows).
set -euo pipefail
arch=${1:?usage: run-ws2-suite.sh x64|x86 LOGDIR}
logs=${2:?usage: run-ws2-suite.sh x64|x86 LOGDIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$logs"
want=$([ "$arch" = x86 ] && echo 'i386' || echo 'x86-64')
failed=0
while read -r program; do
  case $program in ''|'#'*) continue ;; esac
  exe="$top/build/msys2-$arch/tests/e2e/$program.exe"
  [ -f "$exe" ] || { echo "run-ws2-suite: $exe missing" >&2; exit 1; }
  objdump -f "$exe" | grep -q "file format pei-$want" ||
    { echo "run-ws2-suite: $exe is not a pei-$want executable" >&2; exit 1; }
  log="$logs/ws2_32-$arch-$program.log"
  echo "== $program --ws2_32 ($arch)"
  if "$exe" --ws2_32 > "$log" 2>&1; then status=0; else status=$?; fi
  cat "$log"
  if grep -q 'this is Wine' "$log"; then
    echo "run-ws2-suite: $program reports Wine" >&2
    failed=1
  fi
  if [ "$status" != 0 ]; then
    echo "run-ws2-suite: $program failed ($status)" >&2
    failed=1
  fi
done < "$top/tests/e2e/ws2_32-programs.txt"
exit $failed
