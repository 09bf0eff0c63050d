#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what is missing, checks the sources
# for banned functions, builds and runs every test (unit + integration), then builds and runs
# them all again under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

scripts/setup.sh
scripts/check-banned.sh

configure() { # DIR [meson options...]
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson configure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@" >/dev/null
  fi
}

echo "== build and test (debugoptimized)"
configure build
meson compile -C build >/dev/null
meson test -C build --print-errorlogs --num-processes "$jobs"

echo "== build and test under ASan + UBSan"
configure build-asan -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
  -Dc_args=-fno-sanitize-recover=all
meson compile -C build-asan >/dev/null
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  meson test -C build-asan --print-errorlogs --num-processes "$jobs" --timeout-multiplier 3
