#!/usr/bin/env bash
# Fails when SQL appears outside gateway/store/, the only owner of the store's schema: every
# other part (the exporter, the benchmarks, the tests, Python included) reads the store through
# its reader (gateway/store/store_reader.h) or `mlagw store show`, and damages it on purpose
# only through tests/tools/store_fault.
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h' '*.py' '*.sh' 2>/dev/null ||
        find . \( -name '*.[ch]' -o -name '*.py' -o -name '*.sh' \) -not -path './build*' | sed 's|^\./||')
files=$(echo "$files" | grep -v '^gateway/store/' || true)
# statements as SQL writes them: upper-case keywords followed by what they take
sql='\bSELECT\b[^;]*\bFROM\b|\bINSERT (OR [A-Z]+ )?INTO\b|\bCREATE (TABLE|INDEX)\b|\bUPDATE [A-Za-z_]+ SET\b|\bDELETE FROM\b|\bDROP TABLE\b|\bPRAGMA [a-z_]+|\bimport sqlite3\b|#include <sqlite3\.h>'
hits=$(grep -nE "$sql" $files || true)
if [ -n "$hits" ]; then
  echo "SQL outside gateway/store/ (read through store_reader.h or 'mlagw store show'):" >&2
  echo "$hits" >&2
  exit 1
fi
echo "check-sql: no SQL outside gateway/store/ in $(echo "$files" | wc -w) files"
