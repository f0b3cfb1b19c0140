#!/usr/bin/env bash
# The workflow checker passes the real .github/workflows/windows.yml and
# fails each deliberately broken copy of it, naming the problem.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
check="$top/tests/ci/check_workflow.py"
wf="$top/.github/workflows/windows.yml"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 "$check" --root "$top" "$wf"

# name | sed expression that breaks the copy | what the checker must say
broken=(
  "missing script|s#scripts/windows/lsp.sh install#scripts/windows/lsp-gone.sh install#|lsp-gone.sh, which is not in the tree"
  "missing preset|s#scripts/windows/build.sh x86#cmake --preset msys2-arm64#|preset msys2-arm64"
  "script asks for a missing preset|s#scripts/windows/build.sh x86#scripts/windows/build.sh arm64#|asks for preset msys2-arm64"
  "missing make target|s#make package#make packages#|make target packages"
  "missing ctest test|s#scripts/windows/catalog.sh after#ctest --preset x64 -R test_nothing_ws2_32#|ctest test test_nothing_ws2_32"
  "artifact never uploaded|/download-artifact/,/path:/ s#name: peerlsp-msi#name: peerlsp-msy#|downloads artifact peerlsp-msy"
  "YAML syntax|s#^jobs:#jobs: [#|does not parse"
  "needs an unknown job|s#needs: msi#needs: msix#|needs unknown job msix"
)
for row in "${broken[@]}"; do
  IFS='|' read -r name expr want <<< "$row"
  sed -e "$expr" "$wf" > "$tmp/windows.yml"
  if cmp -s "$wf" "$tmp/windows.yml"; then
    echo "test_check_workflow: '$name': the sed expression changed nothing" >&2; exit 1
  fi
  if python3 "$check" --root "$top" "$tmp/windows.yml" > "$tmp/out" 2>&1; then
    cat "$tmp/out"; echo "test_check_workflow: '$name': the checker passed a broken copy" >&2; exit 1
  fi
  grep -qF -- "$want" "$tmp/out" ||
    { cat "$tmp/out"; echo "test_check_workflow: '$name': no \"$want\" in the report" >&2; exit 1; }
  echo "test_check_workflow: '$name' fails as it must: $(head -n 1 "$tmp/out")"
done

# A program in the ws2_32 list that is not an end-to-end program.
mkdir -p "$tmp/root"
cp -r "$top/tests" "$top/scripts" "$top/cmake" "$top/.github" "$top/CMakePresets.json" \
      "$top/Makefile" "$tmp/root/"
echo test_nothing >> "$tmp/root/tests/e2e/ws2_32-programs.txt"
if python3 "$check" --root "$tmp/root" "$tmp/root/.github/workflows/windows.yml" > "$tmp/out" 2>&1; then
  echo "test_check_workflow: an unknown ws2_32 program passed" >&2; exit 1
fi
grep -qF "test_nothing is not an end-to-end program" "$tmp/out"
echo "test_check_workflow: all broken copies fail"
