#!/usr/bin/env bash
# Measures the connection table natively and prints one flat JSON object:
#
#   lookup_ns_1k, lookup_ns_1m   ns per successful lookup, random order,
#                                median of 7 rounds (tests/native/ctab_bench.c)
#   ratio_1m_to_1k               the two above divided (target: <= 4)
#   bytes_per_entry              plsp_ctab_memory() / count at 1,000,000
#                                AF_INET6 entries, every allocation counted
#                                (target: <= 64)
#   instructions_per_lookup      callgrind: instructions executed inside
#                                plsp_ctab_lookup (--toggle-collect on it)
#                                divided by the number of lookups (target:
#                                <= 60)
#   instructions_per_lookup_with_loop
#                                the same for run_lookups(), the delimited
#                                function of tests/native/ctab_callgrind.c
#                                that does only the lookups: the above plus
#                                its loop and the call
#
# Built natively in build/native-release (CMake Release, at -O2).  Progress
# goes to stderr, the JSON to stdout.  Needs valgrind (scripts/bootstrap.sh
# bench).
#
#   scripts/table-metrics.sh [ENTRIES [LOOKUPS]]   callgrind sizes, default
#                                                  1000000 and 1000000
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/build/native-release"
entries=${1:-1000000}
lookups=${2:-1000000}

say() { printf 'table-metrics: %s\n' "$*" >&2; }
die() { printf 'table-metrics: error: %s\n' "$*" >&2; exit 1; }

command -v valgrind >/dev/null 2>&1 || die "valgrind is missing (scripts/bootstrap.sh bench installs it)"
say "building ctab_bench and ctab_callgrind (Release, -O2) in $build"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" >/dev/null
cmake --build "$build" --target ctab_bench ctab_callgrind -j 2 >/dev/null
bin="$build/tests/native"
say "compiler: $(awk -F= '/^CMAKE_C_COMPILER:/ { print $2 }' "$build/CMakeCache.txt")"

say "ctab_bench (1k and 1M entries)"
bench=$("$bin/ctab_bench") || die "ctab_bench failed"
say "$bench"

# Instructions per lookup: collect only inside the named function, then
# divide callgrind's total (the Ir on its "totals:" line) by the lookups.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
per_lookup() {
  local fn=$1 out="$tmp/callgrind.$1" ir
  valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect="$fn" \
    "$bin/ctab_callgrind" "$entries" "$lookups" >/dev/null 2>"$tmp/valgrind.log" \
    || { cat "$tmp/valgrind.log" >&2; die "callgrind run ($fn) failed"; }
  ir=$(awk '/^totals:/ { print $2 }' "$out")
  [ -n "$ir" ] && [ "$ir" -gt 0 ] || die "no instructions collected in $fn"
  say "callgrind --toggle-collect=$fn: $ir instructions / $lookups lookups"
  awk -v ir="$ir" -v n="$lookups" 'BEGIN { printf "%.2f", ir / n }'
}
say "callgrind ($entries entries, $lookups random-order lookups)"
ipl=$(per_lookup plsp_ctab_lookup)
ipl_loop=$(per_lookup run_lookups)

# ctab_bench's object without its closing brace, then the counts.
printf '%s, "instructions_per_lookup": %s, "instructions_per_lookup_with_loop": %s, "callgrind_entries": %s, "callgrind_lookups": %s}\n' \
  "${bench%\}}" "$ipl" "$ipl_loop" "$entries" "$lookups"
