#!/usr/bin/env bash
# `make bench`: the native table metrics and the Wine benchmark in one run,
# merged into build/bench.json (one flat JSON object) with a summary table.
#
#   scripts/bench.sh            (BENCH_ROUNDS=n: rounds per Wine figure, default 9)
#
# Native part: scripts/table-metrics.sh when it exists, else
# scripts/bench-native.sh (both print one JSON object with lookup_ns_1k,
# lookup_ns_1m, bytes_per_entry, instructions_per_lookup).
# Wine part: build/x64/tests/bench/peerlsp-bench.exe (tests/bench).
# Real programs: scripts/bench-apps.sh (node.exe and curl.exe through
# peerlsp-run, peerlsp against --base-only).
# See docs/performance.md for what each figure means.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
rounds=${BENCH_ROUNDS:-9}
say() { printf 'bench: %s\n' "$*"; }

scripts/bootstrap.sh bench
cmake --preset x64 >/dev/null
cmake --build --preset x64 --target peerlsp tbase peerlsp-bench -j 2 >/dev/null

load_before=$(cut -d' ' -f1 /proc/loadavg)
# Idle CPUs poll instead of halting while the figures are taken (why:
# scripts/wakeup-latency.sh); the request ends with this script.
. scripts/wakeup-latency.sh
hold_wakeup_latency
say "CPU wake-up latency 0 held: $wakeup_latency_held"

native_script=scripts/bench-native.sh
[ -x scripts/table-metrics.sh ] && native_script=scripts/table-metrics.sh
say "native table metrics ($native_script)"
"$native_script" > build/bench-native.json
cat build/bench-native.json
# What bounds lookup_ns_1m: one dependent random load over 64 KiB / 64 MiB.
mkdir -p build/native/bench
gcc -std=c11 -O2 -Wall -Wextra -Werror -o build/native/bench/memlat tests/bench/memlat.c
printf '{"mem_latency_ns_64k": %s, "mem_latency_ns_64m": %s}\n' \
  "$(build/native/bench/memlat 65536)" "$(build/native/bench/memlat 67108864)" \
  > build/bench-memlat.json
# And what any layout could reach: one miss per lookup and the table's
# instruction count (tests/bench/lookupfloor.c).
gcc -std=c11 -O2 -Wall -Wextra -Werror -o build/native/bench/lookupfloor tests/bench/lookupfloor.c
build/native/bench/lookupfloor > build/bench-floor.json
cat build/bench-floor.json

say "Wine benchmark ($rounds rounds)"
winjson="Z:$(printf '%s' "$top/build/bench-wine.json" | tr / '\\')"
WINEDEBUG=-all wine build/x64/tests/bench/peerlsp-bench.exe "$winjson" "$rounds"

say "real programs (scripts/bench-apps.sh)"
scripts/fetch-apps.sh
# The whole x64 tree: peerlsp-run.exe, its route DLL and dist/x64's
# peerlsp-ctl.exe besides the above (nothing to do when make build ran).
cmake --build --preset x64 -j 2 >/dev/null
scripts/bench-apps.sh > build/bench-apps.json
cat build/bench-apps.json

load_after=$(cut -d' ' -f1 /proc/loadavg)
wine_version=$(wine --version 2>/dev/null | head -n 1)
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)

# Both parts are flat objects of numbers (and booleans): merge them, add the
# machine and the targets, print the summary.
awk -v nproc="$(nproc)" -v lb="$load_before" -v la="$load_after" \
    -v wine="$wine_version" -v cpu="$cpu" -v held="$wakeup_latency_held" -v out=build/bench.json '
function add(line,   n, parts, i, kv, k) {
  gsub(/^[[:space:]]*\{|\}[[:space:]]*$/, "", line)
  n = split(line, parts, ",")
  for (i = 1; i <= n; i++) {
    if (split(parts[i], kv, ":") != 2) continue
    k = kv[1]; gsub(/[[:space:]"]/, "", k)
    v = kv[2]; gsub(/[[:space:]]/, "", v)
    if (!(k in val)) order[++nkeys] = k
    val[k] = v
  }
}
function num(k) {
  if (!(k in val)) { printf "bench: missing key %s\n", k > "/dev/stderr"; bad = 1; return 0 }
  return val[k] + 0
}
function target(k, op, limit, shown,   x, ok) {
  x = num(k)
  ok = (op == "<=") ? (x <= limit) : (x >= limit)
  met[k] = ok ? "true" : "false"
  printf "  %-26s %12.3f   %s %-14s %s\n", k, x, op, shown, ok ? "met" : "MISSED"
}
{ add($0) }
END {
  print ""
  printf "  %-26s %12s   %s\n", "figure", "value", "target"
  target("getpeername_ratio", "<=", 0.10, "0.10")
  target("getpeername_ratio_100k", "<=", 0.20, "0.20")
  target("getpeername_churn_ratio", "<=", 1.30, "1.30")
  target("send_recv_ratio", "<=", 1.02, "1.02")
  target("connect_close_ratio", "<=", 1.05, "1.05")
  target("lookup_ns_1m", "<=", 4 * num("lookup_ns_1k"), sprintf("4 x %.2f", num("lookup_ns_1k")))
  target("bytes_per_entry", "<=", 64, "64")
  target("threads_2_speedup", ">=", 1.7, "1.7")
  target("instructions_per_lookup", "<=", 60, "60")
  target("app_http_keepalive_ratio", ">=", 0.98, "0.98")
  target("app_http_connect_ratio", ">=", 0.97, "0.97")
  target("app_curl_ratio", "<=", 1.03, "1.03")
  printf "  %-26s %12.3f   (a loop calling nothing, same rounds)\n", "threads_2_ceiling", num("threads_2_ceiling")
  printf "  %-26s %12.3f   (one miss per lookup, no index, same instruction count: any layout'"'"'s best)\n", "lookup_floor_ns_1m", num("lookup_floor_ns_1m")
  printf "  %-26s %12.3f   (the churn ratio of a loop calling nothing: the machine)\n", "getpeername_churn_control", num("getpeername_churn_control")
  printf "  %-26s %12.3f   (base / base, same rounds: the noise floor)\n", "send_recv_aa_ratio", num("send_recv_aa_ratio")
  printf "  %-26s %12.3f   (--base-only / --base-only, same passes)\n", "app_http_keepalive_aa", num("app_http_keepalive_aa_ratio")
  printf "  %-26s %12.3f   (--base-only / --base-only, same passes)\n", "app_http_connect_aa", num("app_http_connect_aa_ratio")
  printf "  %-26s %12.3f   (node CPU time per request, base / peerlsp; A/A %.3f)\n", "app_http_keepalive_cpu", num("app_http_keepalive_cpu_ratio"), num("app_http_keepalive_cpu_aa_ratio")
  printf "  %-26s %12.3f   (node CPU time per request, base / peerlsp; A/A %.3f)\n", "app_http_connect_cpu", num("app_http_connect_cpu_ratio"), num("app_http_connect_cpu_aa_ratio")
  printf "  %-26s %12s\n", "load average before/after", lb " / " la
  printf "  %-26s %12s   (scripts/wakeup-latency.sh)\n", "wake-up latency 0 held", held
  printf "{" > out
  for (i = 1; i <= nkeys; i++) printf "\"%s\": %s, ", order[i], val[order[i]] > out
  for (k in met) printf "\"%s_met\": %s, ", k, met[k] > out
  printf "\"nproc\": %d, \"load_average_before\": %s, \"load_average_after\": %s, ", nproc, lb, la > out
  printf "\"wakeup_latency_held\": %s, ", held > out
  printf "\"cpu\": \"%s\", \"wine\": \"%s\"}\n", cpu, wine > out
  close(out)
  exit bad
}' build/bench-native.json build/bench-memlat.json build/bench-floor.json build/bench-wine.json build/bench-apps.json
say "wrote build/bench.json"
