#!/usr/bin/env bash
# Fails when C sources use functions banned by STYLE.md item 5 (unbounded copies, unchecked
# number parsing). Parse numbers with a range-checked helper; use snprintf and check truncation.
set -euo pipefail
cd "$(dirname "$0")/.."
banned='strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|strncpy'
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
# \b before the name keeps snprintf/vsnprintf/fgets/strtok_r out of the match
hits=$(grep -nE "(^|[^A-Za-z0-9_])($banned)[[:space:]]*\(" $files || true)
if [ -n "$hits" ]; then
  echo "banned functions used (see STYLE.md item 5):" >&2
  echo "$hits" >&2
  exit 1
fi
echo "check-banned: no banned functions in $(echo "$files" | wc -w) files"
