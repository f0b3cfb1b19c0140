#!/usr/bin/env bash
# The real-program figures of `make bench` (called by scripts/bench.sh; runs
# alone too): what peerlsp costs node.exe and curl.exe, through peerlsp-run
# over peerlsp-ctl's catalog against the same catalog with --base-only.
# Prints one flat JSON object:
#   app_http_keepalive_ratio  requests/s through peerlsp / --base-only, Node
#                             HTTP server reading req.socket.remoteAddress on
#                             every request, kept-alive client (target >= 0.98)
#   app_http_connect_ratio    the same, a new connection per request (>= 0.97)
#   app_curl_ratio            wall time of curl.exe runs (GET from a local
#                             server) through peerlsp / --base-only (<= 1.03)
# Passes alternate the order of the ways; each ratio is the ratio of the two
# ways' medians over the passes. The HTTP figures come with an A/A control
# (app_http_*_aa_ratio: --base-only against a second --base-only run in the
# same passes), the noise floor of the machine at the time. Beside them,
# app_http_*_cpu_ratio: the node process's own CPU time per request,
# --base-only / peerlsp (the same sense: below 1 means peerlsp costs), which
# the other programs of a shared machine disturb much less than wall time.
#
#   BENCH_APP_PASSES (default 9): HTTP passes per way (one node.exe run each)
#   BENCH_CURL_PASSES (default 10) x BENCH_CURL_RUNS (default 20): curl runs per way
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build/x64
. "$top/scripts/apps-versions.sh"
node_exe=$top/.deps/apps/$apps_node_exe
curl_exe=$top/.deps/apps/$apps_curl_exe
run_exe=$build/tests/run/peerlsp-run.exe
passes=${BENCH_APP_PASSES:-9}
curl_passes=${BENCH_CURL_PASSES:-10}
curl_runs=${BENCH_CURL_RUNS:-20}
keepalive_requests=${BENCH_KEEPALIVE_REQUESTS:-3000}
connect_requests=${BENCH_CONNECT_REQUESTS:-1000}
export WINEDEBUG=-all NODE_SKIP_PLATFORM_CHECK=1

say() { printf 'bench-apps: %s\n' "$*" >&2; }
die() { printf 'bench-apps: error: %s\n' "$*" >&2; exit 1; }
winpath() { printf 'Z:%s' "${1//\//\\}"; }

[ -f "$run_exe" ] || die "peerlsp-run.exe is missing ($run_exe): the real-program figures need the launcher of issue 9"
[ -f "$node_exe" ] && [ -f "$curl_exe" ] || die "node.exe or curl.exe missing: scripts/fetch-apps.sh"

# Idle CPUs poll instead of halting while the programs are timed (why:
# scripts/wakeup-latency.sh).
. "$top/scripts/wakeup-latency.sh"
hold_wakeup_latency

work=$build/bench-apps
rm -rf "$work"
mkdir -p "$work"
# One persistent wineserver for the hundreds of Wine processes below, as for
# the tests (tests/wineserver.sh): no program meets a server on its way out,
# and no run pays for starting one.
sh "$top/tests/wineserver.sh" start || die "cannot start a persistent wineserver"
trap 'sh "$top/tests/wineserver.sh" stop' EXIT
catalog=$work/peerlsp.cat
wine "$run_exe" --write-base-catalog "$(winpath "$work/base.cat")" >/dev/null
cp "$work/base.cat" "$catalog"
wine "$top/dist/x64/peerlsp-ctl.exe" --catalog "$(winpath "$catalog")" install \
  --dll "$(winpath "$top/dist/x64/peerlsp.dll")" >/dev/null

# routed WAY STDOUT PROGRAM ARGS...: WAY peerlsp or base_only.
routed() {
  local way=$1 stdout=$2 flag=()
  shift 2
  [ "$way" = base_only ] && flag=(--base-only)
  wine "$run_exe" --catalog "$(winpath "$catalog")" "${flag[@]}" -- "$@" >"$stdout" 2>>"$work/stderr.txt"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# One HTTP pass of one way: prints its requests per second and the node
# process's CPU microseconds per request.
http_pass() {
  local way=$1 mode=$2 requests=$3 out="$work/http.out"
  routed "$way" "$out" "$(winpath "$node_exe")" "$(winpath "$top/tests/apps/node/http_bench.js")" "$mode" "$requests" 4 \
    || die "node.exe http_bench.js $mode through $way failed: $(cat "$out")"
  node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); if (!(r.rps > 0 && r.cpu_us_per_request > 0)) process.exit(1); console.log(r.rps, r.cpu_us_per_request)' "$out" \
    || die "no figure from http_bench.js $mode through $way: $(cat "$out")"
}

# Both ways, PASSES passes, plus an A/A control: a second --base-only run
# in each pass (base_only2), whose ratio to the first says how far two
# identical runs differ on the machine at that moment. The order rotates
# from pass to pass. Prints "median_peerlsp median_base median_base2".
http_figure() {
  local mode=$1 requests=$2 pass way fig
  local -a order
  local w
  for w in peerlsp base_only base_only2; do : >"$work/$mode.$w"; : >"$work/$mode.$w.cpu"; done
  for ((pass = 1; pass <= passes; pass++)); do
    case $((pass % 3)) in
      1) order=(peerlsp base_only base_only2) ;;
      2) order=(base_only base_only2 peerlsp) ;;
      0) order=(base_only2 peerlsp base_only) ;;
    esac
    for way in "${order[@]}"; do
      fig=$(http_pass "${way%2}" "$mode" "$requests")
      echo "${fig% *}" >>"$work/$mode.$way"
      echo "${fig#* }" >>"$work/$mode.$way.cpu"
    done
  done
  echo "$(median <"$work/$mode.peerlsp") $(median <"$work/$mode.base_only") $(median <"$work/$mode.base_only2")" \
       "$(median <"$work/$mode.peerlsp.cpu") $(median <"$work/$mode.base_only.cpu") $(median <"$work/$mode.base_only2.cpu")"
}

# curl: a native server (tests/apps/curl/server.js) and CURL_RUNS curl.exe
# runs per pass and way, timed as a whole.
coproc server { exec node "$top/tests/apps/curl/server.js" 2>"$work/server.log"; }
read -r -t 60 line <&"${server[0]}" || die "the curl server did not start"
curl_port=${line#v4a=}
curl_port=${curl_port%% *}
curl_pass() {
  local way=$1 i t0 t1
  t0=$(date +%s%N)
  for ((i = 0; i < curl_runs; i++)); do
    routed "$way" "$work/curl.out" "$(winpath "$curl_exe")" -q -s --noproxy '*' -o NUL \
      -w '%{http_code} %{remote_ip}' "http://127.0.0.1:$curl_port/hello" \
      || die "curl.exe through $way failed: $(cat "$work/curl.out")"
    [ "$(cat "$work/curl.out")" = "200 127.0.0.1" ] || die "curl.exe through $way printed: $(cat "$work/curl.out")"
  done
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000))
}

say "HTTP keep-alive, $passes passes per way"
fig=$(http_figure keepalive "$keepalive_requests")
read -r ka_p ka_b ka_b2 kc_p kc_b kc_b2 <<<"$fig"
say "HTTP new connection per request, $passes passes per way"
fig=$(http_figure connect "$connect_requests")
read -r co_p co_b co_b2 cc_p cc_b cc_b2 <<<"$fig"
say "curl, $curl_passes passes of $curl_runs runs per way"
: >"$work/curl.peerlsp"; : >"$work/curl.base_only"
for ((pass = 1; pass <= curl_passes; pass++)); do
  for way in $( ((pass % 2)) && echo peerlsp base_only || echo base_only peerlsp); do
    ms=$(curl_pass "$way")
    echo "$ms" >>"$work/curl.$way"
  done
done
exec {server[1]}>&-
cu_p=$(median <"$work/curl.peerlsp")
cu_b=$(median <"$work/curl.base_only")

awk -v kap="$ka_p" -v kab="$ka_b" -v kab2="$ka_b2" -v cop="$co_p" -v cob="$co_b" -v cob2="$co_b2" \
    -v kcp="$kc_p" -v kcb="$kc_b" -v kcb2="$kc_b2" -v ccp="$cc_p" -v ccb="$cc_b" -v ccb2="$cc_b2" \
    -v cup="$cu_p" -v cub="$cu_b" \
    -v runs="$curl_runs" -v cpasses="$curl_passes" -v passes="$passes" 'BEGIN {
  printf "{\"app_http_keepalive_ratio\": %.4f, \"app_http_keepalive_rps_peerlsp\": %.1f, \"app_http_keepalive_rps_base\": %.1f, ", kap / kab, kap, kab
  printf "\"app_http_keepalive_aa_ratio\": %.4f, ", kab2 / kab
  printf "\"app_http_connect_ratio\": %.4f, \"app_http_connect_rps_peerlsp\": %.1f, \"app_http_connect_rps_base\": %.1f, ", cop / cob, cop, cob
  printf "\"app_http_connect_aa_ratio\": %.4f, ", cob2 / cob
  # CPU per request, base / peerlsp: same sense as the rps ratios (< 1 costs).
  printf "\"app_http_keepalive_cpu_ratio\": %.4f, \"app_http_keepalive_cpu_us_peerlsp\": %.1f, \"app_http_keepalive_cpu_us_base\": %.1f, \"app_http_keepalive_cpu_aa_ratio\": %.4f, ", kcb / kcp, kcp, kcb, kcb / kcb2
  printf "\"app_http_connect_cpu_ratio\": %.4f, \"app_http_connect_cpu_us_peerlsp\": %.1f, \"app_http_connect_cpu_us_base\": %.1f, \"app_http_connect_cpu_aa_ratio\": %.4f, ", ccb / ccp, ccp, ccb, ccb / ccb2
  printf "\"app_curl_ratio\": %.4f, \"app_curl_ms_per_run_peerlsp\": %.1f, \"app_curl_ms_per_run_base\": %.1f, ", cup / cub, cup / runs, cub / runs
  printf "\"app_http_passes\": %d, \"app_curl_runs\": %d}\n", passes, runs * cpasses
}'
