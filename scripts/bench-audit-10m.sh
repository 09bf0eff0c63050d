#!/usr/bin/env bash
# The audit log at ten million entries, by hand (not in CI: about 15 minutes and 17 GB of
# disk in TMPDIR): mlagw bench audit --entries 10000000 prints the daemon's start path, the
# export and the verification (time and peak RSS) beside the issue's targets, and the same
# at one million for the 3-second target. Figures go to stdout; the exit status is the
# verifier's (0: the 10M bundle verified).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/cli/mlagw ] || { meson setup build >/dev/null; meson compile -C build >/dev/null; }
echo "== 1,000,000 entries"
build/cli/mlagw bench audit --entries 1000000 --seconds 1
echo
echo "== 10,000,000 entries"
build/cli/mlagw bench audit --entries "${ENTRIES:-10000000}" --seconds 1
