# The pinned real programs (sourced by scripts/fetch-apps.sh and
# tests/apps/run_app.sh): where fetch-apps.sh puts them under .deps/apps.
node_win_version=${NODE_WIN_VERSION:-20.18.0}
# Debian 12's curl source package; the upstream version is checked.
curl_upstream=7.88.1
apps_node_exe=node-$node_win_version/node.exe
apps_curl_exe=curl-$curl_upstream/curl.exe
