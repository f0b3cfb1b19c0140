#!/usr/bin/env bash
# Exit 0 only if two saved catalogs (scripts/windows/catalog.sh) are the
# same, line for line (line endings aside); otherwise prints the difference
# and exits 1. Usage: compare-catalogs.sh BEFORE AFTER
set -euo pipefail
before=${1:?usage: compare-catalogs.sh BEFORE AFTER}
after=${2:?usage: compare-catalogs.sh BEFORE AFTER}
for f in "$before" "$after"; do
  [ -s "$f" ] || { echo "compare-catalogs: $f is missing or empty" >&2; exit 1; }
  grep -q 'Catalog Entry ID' "$f" || { echo "compare-catalogs: $f lists no entries" >&2; exit 1; }
done
if diff -u <(tr -d '\r' < "$before") <(tr -d '\r' < "$after"); then
  echo "compare-catalogs: $after is identical to $before"
else
  echo "compare-catalogs: the catalog changed ($before -> $after)" >&2
  exit 1
fi
