# A thin front over the CMake presets in CMakePresets.json.
#   make demo     install what is missing, build dist/x64 and dist/x86, run the demo
#   make apps     fetch node.exe, build curl.exe (.deps/apps; make build does it)
#   make test     the whole test suite (x64 under Wine, x86 built and inspected)
#   make conformance  Wine's ws2_32 tests direct, base_only and through
#                 peerlsp (build/conformance.json; docs/testing.md)
#   make bench    benchmarks (build/bench.json)
#   make fuzz     a bounded libFuzzer run on the connection table
#   make package  the MSI (dist/peerlsp-<version>-x64.msi)
#   make coverage line and branch coverage of src/ and installer/ (build/coverage.json)
.PHONY: all bootstrap apps build build-x64 build-x86 demo test conformance bench fuzz package coverage clean

all: build

bootstrap:
	@scripts/bootstrap.sh

# The real programs the app_* tests run (node.exe, curl.exe) into .deps/apps;
# a second run only checks (scripts/fetch-apps.sh).
apps: bootstrap
	@scripts/fetch-apps.sh

build-x64: bootstrap apps
	cmake --preset x64 >/dev/null
	cmake --build --preset x64 -j 2

build-x86: bootstrap
	cmake --preset x86 >/dev/null
	cmake --build --preset x86 -j 2

build: build-x64 build-x86

# The test host's demo, then a real program (node.exe) through peerlsp-run.
demo: build
	WINEDEBUG=-all wine build/x64/tests/demo/peerlsp-demo.exe
	@scripts/demo-app.sh

package: build
	scripts/package.sh

# Windows binaries under Wine (test_msi packages dist/ itself and runs the
# MSI under msiexec), then the connection table built natively (plain,
# ASan+UBSan, TSan, and the fuzz corpus replayed).
test: build
	ctest --preset x64
	cmake --preset native >/dev/null
	cmake --build --preset native -j 2
	ctest --preset native

# Also part of make test (the ctest test `conformance`); this runs it alone.
conformance: build
	tests/conformance/conformance.sh

# Logic in the scripts: scripts/bench.sh (native table metrics + the Wine
# benchmark -> build/bench.json), scripts/fuzz.sh (FUZZ_SECONDS, default 60).
bench:
	@scripts/bench.sh

# Logic in scripts/coverage.sh: its own build tree (build/x64-coverage, whose
# DLLs never go to dist/), the Wine suite and the native table tests, then
# build/coverage.json and the reports. The x86 build only provides the
# 32-bit DLL some installer tests read.
coverage: build-x86
	@scripts/coverage.sh

fuzz:
	@scripts/bootstrap.sh bench
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-60} scripts/fuzz.sh

clean:
	rm -rf build dist
