#!/usr/bin/env bash
# Fails when C sources use functions banned by STYLE.md item 5 (unbounded copies, unchecked
# number parsing, discarded truncation) or when a public function lacks the mla_ prefix.
# Numbers, base64 and truncation-checked formatting live in the codec layer (protocol/util/).
set -euo pipefail
cd "$(dirname "$0")/.."
banned='strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|strncpy'
# only protocol/util/ (the codec layer) may call these: everyone else uses mla_parse_u64,
# mla_b64_decode, mla_snprintf and friends from include/mlagw/codec.h
codec_only='EVP_DecodeBlock|strtoull|strtoll|strtol|strtoul'
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
status=0
# \b before the name keeps snprintf/vsnprintf/fgets/strtok_r out of the match
hits=$(grep -nE "(^|[^A-Za-z0-9_])($banned)[[:space:]]*\(" $files || true)
if [ -n "$hits" ]; then
  echo "banned functions used (see STYLE.md item 5):" >&2
  echo "$hits" >&2
  status=1
fi

# every file outside the codec layer, without exception
codec_files=$(for f in $files; do
  case "$f" in protocol/util/*) continue ;; esac
  echo "$f"
done)
hits=$(grep -nE "(^|[^A-Za-z0-9_])($codec_only)[[:space:]]*\(" $codec_files || true)
if [ -n "$hits" ]; then
  echo "parse numbers and base64 with include/mlagw/codec.h outside protocol/util/:" >&2
  echo "$hits" >&2
  status=1
fi
# a discarded snprintf hides truncation: mla_snprintf (fails), mla_snprintf_cut (messages)
hits=$(grep -nE "\(void\)[[:space:]]*v?snprintf[[:space:]]*\(" $codec_files || true)
if [ -n "$hits" ]; then
  echo "(void)snprintf discards truncation; use mla_snprintf or mla_snprintf_cut:" >&2
  echo "$hits" >&2
  status=1
fi
python3 scripts/check-prefix.py || status=1
[ $status -eq 0 ] && echo "check-banned: no banned functions in $(echo "$files" | wc -w) files"
exit $status
