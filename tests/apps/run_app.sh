#!/usr/bin/env bash
# Runs one real-program scenario one way and checks it (registered in CTest by
# tests/apps/CMakeLists.txt, one test per scenario and way):
#
#   run_app.sh TOP BUILD WAY SCENARIO
#
# TOP: the source tree; BUILD: the x64 build tree; WAY: direct (the program
# straight on Wine's ws2_32), base_only (through peerlsp-run over the catalog
# without peerlsp: the test host and tbase) or peerlsp (through peerlsp-run
# over the catalog that peerlsp-ctl install wrote); SCENARIO: node_tcp,
# node_refused, node_udp, node_http, node_many, curl.
#
# The program's output, normalised by the scenario (system-chosen ports
# replaced by names), must equal tests/apps/expected/SCENARIO.txt byte for
# byte, whichever the way: so the three ways give the same output. Routed
# runs also check peerlsp-run's statistics: no bypass, and through peerlsp
# the peer answered from peerlsp's table (getpeername_from_table > 0; for
# node.exe every getpeername), with --base-only nothing answered from a
# table.
set -uo pipefail

top=$1 build=$2 way=$3 scenario=$4
. "$top/scripts/apps-versions.sh"
apps=$top/.deps/apps
node_exe=$apps/$apps_node_exe
curl_exe=$apps/$apps_curl_exe
run_exe=$build/tests/run/peerlsp-run.exe
ctl_exe=$top/dist/x64/peerlsp-ctl.exe
lsp_dll=$top/dist/x64/peerlsp.dll
expected=$top/tests/apps/expected/$scenario.txt
work=$build/tests/apps/$scenario.$way
export WINEDEBUG=${WINEDEBUG:--all}

fail() { printf 'run_app: %s %s: FAIL: %s\n' "$scenario" "$way" "$*" >&2; exit 1; }
# Windows form of an absolute path (Wine maps Z: to /).
winpath() { printf 'Z:%s' "${1//\//\\}"; }

case $way in
  direct|base_only|peerlsp) ;;
  *) fail "unknown way (direct, base_only or peerlsp)" ;;
esac
case $scenario in
  node_*) [ -f "$node_exe" ] || fail "$node_exe is missing: run scripts/fetch-apps.sh (make build does)" ;;
  curl) [ -f "$curl_exe" ] || fail "$curl_exe is missing: run scripts/fetch-apps.sh (make build does)"
        command -v node >/dev/null || fail "node (Debian's nodejs) is missing: run scripts/fetch-apps.sh" ;;
  *) fail "unknown scenario" ;;
esac
[ -f "$expected" ] || fail "no expected output $expected"

rm -rf "$work"
mkdir -p "$work"

# The catalog of the routed runs, as an administrator's machine would have
# it: peerlsp-run's base catalog (tbase), then peerlsp-ctl install.
# --base-only runs over the same catalog without peerlsp.
catalog=$work/peerlsp.cat
if [ "$way" != direct ]; then
  [ -f "$run_exe" ] || fail "peerlsp-run.exe is missing ($run_exe): the routed runs need the launcher of issue 9; the direct run of this scenario is app_${scenario}_direct"
  [ -f "$ctl_exe" ] && [ -f "$lsp_dll" ] || fail "dist/x64 is not staged (peerlsp-ctl.exe, peerlsp.dll): make build"
  wine "$run_exe" --write-base-catalog "$(winpath "$work/base.cat")" >"$work/catalog.log" 2>&1 \
    || { cat "$work/catalog.log" >&2; fail "peerlsp-run --write-base-catalog failed"; }
  cp "$work/base.cat" "$catalog"
  wine "$ctl_exe" --catalog "$(winpath "$catalog")" install --dll "$(winpath "$lsp_dll")" >>"$work/catalog.log" 2>&1 \
    || { cat "$work/catalog.log" >&2; fail "peerlsp-ctl --catalog install failed"; }
fi

# Runs a Windows program the chosen way: run_program NAME STDOUT STDERR PROGRAM ARGS...
# NAME names the statistics file (routed ways). Sets program_rc.
stats_files=()
run_program() {
  local name=$1 stdout=$2 stderr=$3
  shift 3
  local program
  program=$(winpath "$1")
  shift
  case $way in
    direct)
      wine "$program" "$@" >"$stdout" 2>"$stderr" ;;
    base_only|peerlsp)
      local stats="$work/$name.stats.json" flag=()
      [ "$way" = base_only ] && flag=(--base-only)
      stats_files+=("$stats")
      wine "$run_exe" --catalog "$(winpath "$catalog")" "${flag[@]}" --stats "$(winpath "$stats")" \
        -- "$program" "$@" >"$stdout" 2>"$stderr" ;;
  esac
  program_rc=$?
  if [ "$way" != direct ]; then
    case $program_rc in
      125) cat "$stderr" >&2; fail "peerlsp-run itself failed (exit 125) running $name" ;;
      126) cat "$stderr" >&2; fail "peerlsp-run met a routed function it does not support (exit 126) running $name" ;;
    esac
  fi
}

# Node's stdout must be a file under Wine (a pipe gives EBADF).
run_node() {
  local script=$1
  shift
  NODE_SKIP_PLATFORM_CHECK=1 run_program node "$work/out.txt" "$work/stderr.txt" \
    "$node_exe" "$(winpath "$top/tests/apps/node/$script")" "$@"
  if [ "$program_rc" != 0 ]; then
    cat "$work/out.txt" "$work/stderr.txt" >&2
    fail "node.exe $script exited with $program_rc"
  fi
}

# curl.exe against a native HTTP server (tests/apps/curl/server.js).
run_curl_scenario() {
  local -A port
  local line kv server_pid
  coproc server { exec node "$top/tests/apps/curl/server.js" 2>"$work/server.log"; }
  server_pid=$server_PID
  # The server prints its ports once everything listens; read blocks until
  # then (the timeout only guards against a server that died silently).
  if ! read -r -t 60 line <&"${server[0]}"; then
    cat "$work/server.log" >&2
    fail "the curl scenario's HTTP server did not start"
  fi
  for kv in $line; do port[${kv%%=*}]=${kv#*=}; done

  # One request; prints one normalised line.
  local n=0
  request() {
    local label=$1
    shift
    n=$((n + 1))
    local body="$work/body.$n" wout="$work/curl.$n.out" werr="$work/curl.$n.err"
    : >"$body"
    run_program "curl.$n" "$wout" "$werr" "$curl_exe" -q -s -g --noproxy '*' -o "$(winpath "$body")" \
      -w '%{http_code}|%{remote_ip}|%{remote_port}|%{local_ip}|%{local_port}|%{num_connects}|%{num_redirects}|%{exitcode}' "$@"
    # '|' keeps the fields curl leaves empty (a refused connection has no
    # remote or local address).
    local code rip rport lip lport conns redirs exitcode
    IFS='|' read -r code rip rport lip lport conns redirs exitcode <"$wout"
    local text
    text=$(tr -d '\n' <"$body")
    # The server names the client it saw: curl's own local port, or not.
    if [ -n "$lport" ] && [[ $text == *" $lport" ]]; then
      text="${text% "$lport"} <curl's own local port>"
    fi
    local name
    for name in "${!port[@]}"; do
      [ "$rport" = "${port[$name]}" ] && rport="<$name>"
    done
    printf '%s: exit %s (curl.exe %s), http %s, remote "%s" %s, local "%s", connects %s, redirects %s, body "%s"\n' \
      "$label" "$exitcode" "$program_rc" "$code" "$rip" "$rport" "$lip" "$conns" "$redirs" "$text"
  }

  {
    request "GET 127.0.0.1" "http://127.0.0.1:${port[v4a]}/hello"
    request "GET [::1]" "http://[::1]:${port[v6a]}/hello"
    request "redirect 127.0.0.1 to another port" -L "http://127.0.0.1:${port[v4a]}/to/v4b"
    request "redirect [::1] to another port" -L "http://[::1]:${port[v6a]}/to/v6b"
    request "redirect 127.0.0.1 to [::1]" -L "http://127.0.0.1:${port[v4b]}/to/v6a"
    request "redirect [::1] to 127.0.0.1" -L "http://[::1]:${port[v6b]}/to/v4a"
    request "refused 127.0.0.1" "http://127.0.0.1:${port[refused4]}/hello"
    request "refused [::1]" "http://[::1]:${port[refused6]}/hello"
  } >"$work/out.txt"
  exec {server[1]}>&-
  wait "$server_pid" 2>/dev/null
}

case $scenario in
  node_tcp) run_node tcp.js ;;
  node_refused) run_node refused.js ;;
  node_udp) run_node udp.js ;;
  node_http) run_node http.js ;;
  node_many) run_node many.js 1000 20 50 ;;
  curl) run_curl_scenario ;;
esac

if ! diff -u "$expected" "$work/out.txt" >"$work/diff.txt"; then
  cat "$work/diff.txt" >&2
  fail "output differs from tests/apps/expected/$scenario.txt"
fi

# Statistics of the routed runs, summed over the program's runs.
if [ "$way" != direct ]; then
  node - "$way" "$scenario" "${stats_files[@]}" <<'JS' || fail "statistics (above)"
const fs = require('fs');
const [way, scenario, ...files] = process.argv.slice(2);
const sum = { getpeername_from_table: 0, getpeername_asked_below: 0, bypasses: 0, unknown_handles: 0, calls: 0 };
const bypassed = new Set();
for (const f of files) {
  let s;
  try { s = JSON.parse(fs.readFileSync(f, 'utf8')); } catch (e) {
    console.error(`no readable statistics in ${f}: ${e.message}`);
    process.exit(1);
  }
  for (const k of ['getpeername_from_table', 'getpeername_asked_below', 'bypasses', 'unknown_handles']) {
    if (typeof s[k] !== 'number') { console.error(`${f}: ${k} missing`); process.exit(1); }
    sum[k] += s[k];
  }
  for (const n of Object.values(s.calls || {})) sum.calls += n;
  for (const b of s.bypassed || []) bypassed.add(b);
}
console.log(`stats (${files.length} run(s)): ${JSON.stringify(sum)}`);
const problems = [];
if (sum.bypasses !== 0 || bypassed.size) problems.push(`${sum.bypasses} bypass(es): ${[...bypassed].join(', ')}`);
if (sum.calls === 0) problems.push('no call went through the SPI');
if (way === 'peerlsp' && !(sum.getpeername_from_table > 0)) problems.push('no getpeername answered from peerlsp\'s table');
// node.exe (libuv) connects with ConnectEx and accepts with AcceptEx, and
// sets SO_UPDATE_*_CONTEXT: peerlsp records every peer then, so none of
// node's getpeername calls needs the provider below. curl.exe connects
// non-blocking: its first getpeername after each connect asks below and
// records the answer (docs/architecture.md), so it is held to > 0 only.
if (way === 'peerlsp' && scenario.startsWith('node_') && sum.getpeername_asked_below !== 0)
  problems.push(`${sum.getpeername_asked_below} getpeername call(s) asked below: node's peers are all recorded at ConnectEx/AcceptEx`);
if (way === 'base_only' && sum.getpeername_from_table !== 0) problems.push('getpeername answered from a table without peerlsp');
if (problems.length) { console.error(problems.join('\n')); process.exit(1); }
JS
fi
printf 'run_app: %s %s: passed\n' "$scenario" "$way"
