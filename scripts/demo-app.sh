#!/usr/bin/env bash
# The second half of `make demo`: an unmodified real program, node.exe, whose
# Winsock calls go through peerlsp-run over a catalog that peerlsp-ctl
# install wrote; socket.remoteAddress / remotePort on both ends of a TCP
# connection (tests/apps/node/tcp.js), then what peerlsp-run counted: the
# getpeername calls peerlsp answered from its table.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build/x64
. "$top/scripts/apps-versions.sh"
node_exe=$top/.deps/apps/$apps_node_exe
run_exe=$build/tests/run/peerlsp-run.exe
export WINEDEBUG=-all NODE_SKIP_PLATFORM_CHECK=1

die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }
winpath() { printf 'Z:%s' "${1//\//\\}"; }

[ -f "$run_exe" ] || die "peerlsp-run.exe is missing ($run_exe): the launcher of issue 9"
[ -f "$node_exe" ] || die "node.exe is missing: scripts/fetch-apps.sh"

work=$build/demo-app
rm -rf "$work"
mkdir -p "$work"
echo
echo "== node.exe $node_win_version through peerlsp (peerlsp-run over peerlsp-ctl's catalog)"
wine "$run_exe" --write-base-catalog "$(winpath "$work/peerlsp.cat")" >/dev/null
wine "$top/dist/x64/peerlsp-ctl.exe" --catalog "$(winpath "$work/peerlsp.cat")" install \
  --dll "$(winpath "$top/dist/x64/peerlsp.dll")" >/dev/null
echo "\$ peerlsp-run --catalog peerlsp.cat --stats stats.json -- node.exe tests/apps/node/tcp.js"
echo "(ports the system chose are printed as <portN>: the same name is the same port)"
wine "$run_exe" --catalog "$(winpath "$work/peerlsp.cat")" --stats "$(winpath "$work/stats.json")" \
  -- "$(winpath "$node_exe")" "$(winpath "$top/tests/apps/node/tcp.js")" >"$work/out.txt" 2>"$work/err.txt" \
  || { cat "$work/out.txt" "$work/err.txt" >&2; die "node.exe through peerlsp-run failed"; }
cat "$work/out.txt"
node - "$work/stats.json" <<'JS' || die "the statistics do not show peerlsp answering"
const s = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
console.log(`getpeername answered from peerlsp's table: ${s.getpeername_from_table}, ` +
  `asked of the provider below: ${s.getpeername_asked_below}, bypasses: ${s.bypasses}`);
if (!(s.getpeername_from_table > 0) || s.bypasses !== 0) process.exit(1);
JS
