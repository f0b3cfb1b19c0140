#!/usr/bin/env bash
# test_sign.sh - Authenticode signing by `make package` (scripts/package.sh)
# with osslsigncode: the test makes a throwaway code-signing certificate
# with openssl, packages with it, and checks that the MSI and the four
# binaries inside it (both DLLs, both tools; installed with Wine's msiexec
# to see them) carry signatures that verify
# against that certificate, that dist/ itself is left unsigned, and that a
# certificate that cannot be used fails the packaging without an MSI.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
check() { # description, command...
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $what"; fi
}
verifies() { osslsigncode verify -CAfile "$tmp/cert.pem" -in "$1" >"$tmp/verify.out" 2>&1 &&
             grep -q '^Signature verification: ok' "$tmp/verify.out"; }
unsigned() { ! osslsigncode verify -CAfile "$tmp/cert.pem" -in "$1" >/dev/null 2>&1; }

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 2 \
  -subj "/CN=peerlsp throwaway test signing" -addext "extendedKeyUsage=codeSigning" \
  -addext "keyUsage=digitalSignature" >/dev/null 2>&1 ||
  { echo "openssl cannot make a certificate"; exit 1; }

PEERLSP_SIGN_CERT="$tmp/cert.pem" PEERLSP_SIGN_KEY="$tmp/key.pem" \
  PEERLSP_PACKAGE_OUT="$tmp/signed.msi" "$top/scripts/package.sh" >"$tmp/package.out" 2>&1; rc=$?
check "signed packaging exits 0 (got $rc: $(tail -n 1 "$tmp/package.out"))" [ $rc = 0 ]
check "the MSI's signature verifies" verifies "$tmp/signed.msi"
# The binaries inside, where Wine's msiexec installs them (the two DLLs
# share a name, so only an install shows both).
export WINEDEBUG=-all
prefix=${WINEPREFIX:-$HOME/.wine}
winmsi="Z:$(echo "$tmp/signed.msi" | tr / '\\')"
wine msiexec /i "$winmsi" PEERLSP_REGISTER=0 /qn >/dev/null 2>&1; rc=$?
check "the signed MSI installs under Wine (got $rc)" [ $rc = 0 ]
for f in "windows/system32/peerlsp.dll" "windows/syswow64/peerlsp.dll" \
         "Program Files/peerlsp/peerlsp-ctl.exe" "Program Files (x86)/peerlsp/peerlsp-ctl.exe"; do
  check "C:/$f from the MSI is signed" verifies "$prefix/drive_c/$f"
done
wine msiexec /x "$winmsi" /qn >/dev/null 2>&1
for f in x64/peerlsp.dll x86/peerlsp.dll x64/peerlsp-ctl.exe x86/peerlsp-ctl.exe; do
  check "dist/$f left unsigned" unsigned "$top/dist/$f"
done

PEERLSP_SIGN_CERT="$tmp/no-such-cert.pem" PEERLSP_SIGN_KEY="$tmp/key.pem" \
  PEERLSP_PACKAGE_OUT="$tmp/bad.msi" "$top/scripts/package.sh" >"$tmp/bad.out" 2>&1; rc=$?
check "an unusable certificate fails the packaging (got $rc)" [ $rc != 0 ]
check "... and leaves no MSI" [ ! -e "$tmp/bad.msi" ]

echo "$passed passed, $failed failed"
[ $failed = 0 ]
