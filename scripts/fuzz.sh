#!/usr/bin/env bash
# Fuzzes the connection table: builds the libFuzzer target ctab_fuzz
# (tests/native/ctab_fuzz.c, clang, -fsanitize=fuzzer,address,undefined) in
# build/native-fuzz and runs it for a bounded time.
#
#   scripts/fuzz.sh [SECONDS]      default: $FUZZ_SECONDS, else 60
#
# The corpus is kept in build/native-fuzz/corpus between runs; a failing
# input is saved as build/native-fuzz/crash-* (or timeout-*, leak-*) and
# can be replayed with build/native-fuzz/tests/native/ctab_fuzz FILE or,
# without clang, with ctab_fuzz_replay FILE from any native build.
# Needs clang and libclang-rt-14-dev (scripts/bootstrap.sh bench).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/build/native-fuzz"
seconds=${1:-${FUZZ_SECONDS:-60}}

say() { printf 'fuzz: %s\n' "$*" >&2; }
die() { printf 'fuzz: error: %s\n' "$*" >&2; exit 1; }

case $seconds in
  ''|*[!0-9]*|0) die "the run time must be a whole number of seconds, got '$seconds'" ;;
esac
command -v clang >/dev/null 2>&1 || die "clang is missing (scripts/bootstrap.sh bench installs it)"

# A build tree configured with another compiler cannot be switched: start
# it afresh.
if [ -f "$build/CMakeCache.txt" ] && ! grep -q '^CMAKE_C_COMPILER_ID:.*Clang\|^CMAKE_C_COMPILER:.*clang' "$build/CMakeCache.txt"; then
  rm -rf "$build"
fi
say "building ctab_fuzz with clang in $build"
CC=clang cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target ctab_fuzz -j 2 >/dev/null
fuzzer="$build/tests/native/ctab_fuzz"
[ -x "$fuzzer" ] || die "$fuzzer was not built (is CMAKE_C_COMPILER clang?)"

mkdir -p "$build/corpus"
say "running for ${seconds}s (corpus: $build/corpus)"
# -timeout: one input running 10 s means a hang (a probe that never ends).
"$fuzzer" -max_total_time="$seconds" -timeout=10 -max_len=4096 \
  -print_final_stats=1 -artifact_prefix="$build/" "$build/corpus"
say "no failure in ${seconds}s"
