#!/usr/bin/env bash
# pe-version.sh FILE - prints a PE file's fixed file version (a.b.c.d) from
# its VERSIONINFO resource: the VS_FIXEDFILEINFO (signature 0xFEEF04BD)
# that follows the UTF-16 key "VS_VERSION_INFO". grep and od only (no
# Windows tools on the build machine). Exit 1 without a VERSIONINFO.
set -euo pipefail
file=$1
key='V\x00S\x00_\x00V\x00E\x00R\x00S\x00I\x00O\x00N\x00_\x00I\x00N\x00F\x00O\x00'
k=$(LC_ALL=C grep -obUaP "$key" "$file" | head -n 1 | cut -d: -f1)
[ -n "$k" ] || exit 1
rel=$(tail -c +"$((k + 1))" "$file" | LC_ALL=C grep -obUaP '\xBD\x04\xEF\xFE' | head -n 1 |
      cut -d: -f1)
[ -n "$rel" ] || exit 1
read -r ms ls < <(od -An -tu4 -j $((k + rel + 8)) -N 8 --endian=little "$file")
echo "$((ms >> 16)).$((ms & 0xFFFF)).$((ls >> 16)).$((ls & 0xFFFF))"
