#!/usr/bin/env bash
# The fault-injection run of the integration suite (gw-fault-run) for as long as you like, by
# hand: three States under load while gateways are SIGKILLed and restarted, their wall clocks
# stepped and their processes paused, then a lost write-ahead log; every acknowledged
# submission is accounted for and every audit bundle verified (see the test's docstring).
# CI runs it for 60 s; this is for the long runs whose figures go in a closing note.
#   scripts/fault-run.sh [SECONDS [SEED]]     (default 600 s, a random seed, printed)
# env: MLAGW_FAULT_RATE submissions per second per direction (10); BUILD (build).
# The whole output goes to BUILD/fault-run-<time>.log; the progress and summary are printed.
# exit: the test's (0 everything accounted for and verified).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BUILD:-build}
export MLAGW_FAULT_SECONDS=${1:-600}
if [ -n "${2:-}" ]; then export MLAGW_FAULT_SEED=$2; fi
if [ ! -f $B/build.ninja ]; then meson setup $B >/dev/null; fi
ninja -C $B >/dev/null
export MLAGW_STORE_FAULT=$B/tests/tools/store_fault
log=$B/fault-run-$(date -u +%Y%m%dT%H%M%SZ).log
echo "fault run: ${MLAGW_FAULT_SECONDS}s of faults, full output in $log"
set +e
python3 tests/integration/gateway/test_fault_run.py $B/cli/mlagw $B/gateway/mlagwd >"$log" 2>&1
rc=$?
set -e
# progress lines, any finding, the summary table and the verdict (the daemons' logs on a
# failure stay in the file)
grep -E '^\[fault-run' "$log" | grep -vE '^\[fault-run [0-9:]+\]   ' || true
sed -n '/^===== fault run summary/,/^test_fault_run/p' "$log"
[ $rc -eq 0 ] || { echo "FAILED (exit $rc): see $log"; tail -40 "$log"; }
exit $rc
