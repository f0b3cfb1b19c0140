#!/usr/bin/env bash
# Saves both Winsock catalogs as Windows itself lists them:
#   scripts/windows/catalog.sh NAME LOGDIR
# writes LOGDIR/catalog-NAME-64.txt (System32's netsh, a 64-bit process)
# and LOGDIR/catalog-NAME-32.txt (SysWOW64's netsh, a 32-bit process, which
# sees the 32-bit catalog).
set -euo pipefail
name=${1:?usage: catalog.sh NAME LOGDIR}
logs=${2:?usage: catalog.sh NAME LOGDIR}
mkdir -p "$logs"
windir=$(cygpath -u "${SYSTEMROOT:-C:\\Windows}")
"$windir/System32/netsh.exe" winsock show catalog > "$logs/catalog-$name-64.txt"
"$windir/SysWOW64/netsh.exe" winsock show catalog > "$logs/catalog-$name-32.txt"
for bits in 64 32; do
  n=$(grep -c 'Catalog Entry ID' "$logs/catalog-$name-$bits.txt" || true)
  [ "$n" -gt 0 ] || { echo "catalog: no entries in catalog-$name-$bits.txt" >&2; exit 1; }
  echo "catalog: $name, $bits-bit: $n entries"
done
