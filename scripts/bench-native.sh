#!/usr/bin/env bash
# Native measurements of the connection table (src/conntable.c is portable
# C): builds the native preset's ctab_bench and ctab_callgrind
# (tests/native) and prints one flat JSON object:
#   lookup_ns_1k, lookup_ns_1m, bytes_per_entry   (ctab_bench)
#   instructions_per_lookup            callgrind, plsp_ctab_lookup alone
#   instructions_per_lookup_with_loop  callgrind, the calling loop included
#   mem_latency_ns_64k, mem_latency_ns_64m  a dependent random load over
#       64 KiB and 64 MiB (tests/bench/memlat.c): what bounds lookup_ns_1m
# Used by scripts/bench.sh when scripts/table-metrics.sh is not there.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
say() { printf 'bench-native: %s\n' "$*" >&2; }

cmake --preset native >/dev/null
cmake --build --preset native --target ctab_bench ctab_callgrind -j 2 >/dev/null
bin=build/native/tests/native
mkdir -p build/native/bench
gcc -std=c11 -O2 -Wall -Wextra -Werror -o build/native/bench/memlat tests/bench/memlat.c

say "ctab_bench (1,000 and 1,000,000 entries)"
table=$("$bin/ctab_bench")

# Instructions are counted over 1,000,000 lookups in a random order in a
# table of 1,000,000 entries; callgrind's count does not depend on the
# machine's load.
lookups=1000000
count_ir() { # toggle function -> instructions collected
  local out=build/native/bench/callgrind.$1.out
  valgrind --tool=callgrind --toggle-collect="$1" --callgrind-out-file="$out" \
    "$bin/ctab_callgrind" 1000000 "$lookups" >/dev/null 2>&1
  awk '/^summary:/ { print $2 }' "$out"
}
say "callgrind (1,000,000 lookups)"
ir=$(count_ir plsp_ctab_lookup)
ir_loop=$(count_ir run_lookups)
[ -n "$ir" ] && [ -n "$ir_loop" ] || { say "callgrind gave no count"; exit 1; }

say "memory latency"
lat_small=$(build/native/bench/memlat 65536)
lat_big=$(build/native/bench/memlat 67108864)

printf '%s' "$table" | sed 's/}[[:space:]]*$//'
awk -v ir="$ir" -v irl="$ir_loop" -v n="$lookups" -v ls="$lat_small" -v lb="$lat_big" 'BEGIN {
  printf ", \"instructions_per_lookup\": %.2f, \"instructions_per_lookup_with_loop\": %.2f", ir / n, irl / n
  printf ", \"mem_latency_ns_64k\": %s, \"mem_latency_ns_64m\": %s}\n", ls, lb }'
