#!/usr/bin/env bash
# `make coverage`: what the tests leave unexecuted in src/ and installer/.
#
#   scripts/coverage.sh
#
# 1. build/x64-coverage (preset x64-coverage): the x64 tree with src/ and
#    installer/ compiled with --coverage. Its peerlsp.dll and peerlsp-ctl.exe
#    are staged in build/x64-coverage/dist/x64, never in dist/, and its test
#    programs load that DLL. The .gcda files are written by MinGW's libgcov
#    under Wine when each test program (and each load of the DLL) ends.
# 2. The whole Wine suite (ctest --preset x64-coverage) except test_msi,
#    test_sign, test_pe and test_workflow, which cannot carry data: the first
#    three package or inspect the shipped dist/ (a coverage build is not
#    what ships, and msiexec would run the shipped tool), the last is a
#    Python check of the Windows workflow file.
# 3. build/native-coverage: the connection table's unit tests built natively
#    with gcc --coverage, with 256 and with 4 reader slots (the sanitizer
#    builds are left to make test).
# 4. gcovr (Debian's) reads both with the matching gcov, merges them and
#    writes build/coverage.json (the figures per area and per file),
#    build/coverage.txt (per file, with the lines not executed),
#    build/coverage-branches.txt (per file, the branches) and
#    build/coverage/index.html (every file, line by line).
# Branch figures leave out the branches gcc itself marks unreachable
# (--exclude-unreachable-branches).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
say() { printf 'coverage: %s\n' "$*"; }

scripts/bootstrap.sh coverage
: "${WINEPREFIX:=$HOME/.wine}"
export WINEPREFIX

cov=build/x64-coverage
cmake --preset x64-coverage >/dev/null
cmake --build --preset x64-coverage -j 2 >/dev/null
find "$cov" -name '*.gcda' -delete
say "the Wine suite (ctest --preset x64-coverage)"
suite_rc=0
ctest --preset x64-coverage || suite_rc=$?

native=build/native-coverage
cmake --preset native-coverage >/dev/null
cmake --build --preset native-coverage --target test_conntable_native test_conntable_fewslots \
  -j 2 >/dev/null
find "$native" -name '*.gcda' -delete
say "the native table tests (256 and 4 reader slots)"
"$native/tests/native/test_conntable_native" >/dev/null || suite_rc=$?
"$native/tests/native/test_conntable_fewslots" >/dev/null || suite_rc=$?

filters=(--root "$top" --filter "$top/src/" --filter "$top/installer/"
         --exclude-unreachable-branches)
gcovr "${filters[@]}" --gcov-executable x86_64-w64-mingw32-gcov \
      --object-directory "$cov" --json build/coverage-x64.gcovr.json "$cov/src" "$cov/installer"
gcovr "${filters[@]}" --gcov-executable gcov \
      --object-directory "$native" --json build/coverage-native.gcovr.json "$native/tests/native"
python3 scripts/coverage-json.py --drop-functions build/coverage-native.gcovr.json
mkdir -p build/coverage
merged=(--root "$top" -a build/coverage-x64.gcovr.json -a build/coverage-native.gcovr.json)
gcovr "${merged[@]}" --txt build/coverage-branches.txt --branches
gcovr "${merged[@]}" --html-details build/coverage/index.html \
      --json-summary build/coverage-summary.gcovr.json
gcovr "${merged[@]}" --txt build/coverage.txt
python3 scripts/coverage-json.py build/coverage-summary.gcovr.json > build/coverage.json
say "build/coverage.json:"
cat build/coverage.json
say "reports: build/coverage.txt (lines not executed), build/coverage-branches.txt, build/coverage/index.html"
[ "$suite_rc" = 0 ] || { say "a test failed (exit $suite_rc): the figures cover what ran"; exit 1; }
