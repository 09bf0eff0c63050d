#!/usr/bin/env bash
# The fault-injection run of the evidence transfer (gw-attach-fault-run) for as long as you
# like, by hand: ES sends messages with attachments to CO, sealed before and submitted through
# its API meanwhile, while CO, ES or both are SIGKILLed and restarted; every acknowledged
# message is accounted for, byte for byte, and the segments sent again are counted and bounded
# (see the test's docstring). CI runs it for 30 s; this is for the long runs whose figures go
# in a closing note.
#   scripts/fault-run-attach.sh [SECONDS [SEED]]     (default 300 s, a random seed, printed)
# env: MLAGW_ATTACH_FAULT_BANDWIDTH [peer CO] max_bandwidth, the peer's segments per second (4 MiB); BUILD (build).
# The whole output goes to BUILD/fault-run-attach-<time>.log; the progress and summary are
# printed. exit: the test's (0 everything accounted for).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BUILD:-build}
export MLAGW_ATTACH_FAULT_SECONDS=${1:-300}
if [ -n "${2:-}" ]; then export MLAGW_ATTACH_FAULT_SEED=$2; fi
if [ ! -f $B/build.ninja ]; then meson setup $B >/dev/null; fi
ninja -C $B >/dev/null
export MLAGW_STORE_FAULT=$B/tests/tools/store_fault
export MLAGW_ATTACH_SEAL=$B/tests/tools/attach_seal
log=$B/fault-run-attach-$(date -u +%Y%m%dT%H%M%SZ).log
echo "attachment fault run: ${MLAGW_ATTACH_FAULT_SECONDS}s of faults, full output in $log"
set +e
python3 tests/integration/gateway/test_attach_fault_run.py $B/cli/mlagw $B/gateway/mlagwd \
	>"$log" 2>&1
rc=$?
set -e
# progress lines, the summary table and the verdict (the daemons' logs on a failure stay in
# the file)
grep -E '^\[attach-fault-run' "$log" || true
sed -n '/^===== attachment fault run summary/,/^test_attach_fault_run/p' "$log"
[ $rc -eq 0 ] || { echo "FAILED (exit $rc): see $log"; tail -40 "$log"; }
exit $rc
