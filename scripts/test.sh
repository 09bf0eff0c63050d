#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what is missing, checks the sources
# for banned functions, builds, checks the layout (no include of another part's internal
# header, no cycle between the gateway's subsystems), runs every test (unit + integration),
# then builds and runs them all again under AddressSanitizer + UndefinedBehaviorSanitizer,
# then runs each fuzz harness for a short smoke (scripts/fuzz.sh runs them longer).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

scripts/setup.sh
scripts/check-banned.sh
scripts/check-sql.sh

configure() { # DIR [meson options...]
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson configure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@" >/dev/null
  fi
}

compile() { # DIR: quiet on success, the whole log on failure
  meson compile -C "$1" > "$1/compile.log" 2>&1 || { cat "$1/compile.log"; exit 1; }
}

echo "== build and test (debugoptimized)"
configure build
compile build
python3 scripts/check-layout.py --build build
meson test -C build --print-errorlogs --num-processes "$jobs"

echo "== build and test under ASan + UBSan"
configure build-asan -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
  -Dc_args=-fno-sanitize-recover=all
compile build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  meson test -C build-asan --print-errorlogs --num-processes "$jobs" --timeout-multiplier 3

echo "== fuzz smoke (libFuzzer, 3 s per harness; scripts/fuzz.sh N runs them longer)"
bash scripts/fuzz.sh 3

# One closing line over both builds (meson's own summaries are per build).
python3 - build/meson-logs/testlog.json build-asan/meson-logs/testlog.json <<'PY'
import json, sys
passed = failed = 0
for path in sys.argv[1:]:
    for line in open(path):
        r = json.loads(line)
        if r.get("result") == "OK":
            passed += 1
        else:
            failed += 1
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
