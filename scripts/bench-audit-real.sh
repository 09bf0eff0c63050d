#!/usr/bin/env bash
# The audit verifier on a bundle of REAL messages, by hand (not in CI): mlagw bench gateway
# sends 2N+50 signed, encrypted envelopes from ES to CO with signed receipts; each State's
# store is exported and verified, printing entries, envelopes, receipts, export and verify
# wall time and the verifier's peak RSS (GNU time's maximum resident set) beside the issue's
# bound (256 MiB at ten million entries). Disk: some 11 KB a message per store, as much again
# per bundle, in TMPDIR (default /tmp). Usage: N=500000 scripts/bench-audit-real.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-20000}
[ -x build/cli/mlagw ] || { meson setup build >/dev/null; meson compile -C build >/dev/null; }
mlagw=$PWD/build/cli/mlagw
work=$(mktemp -d "${TMPDIR:-/tmp}/mlagw-audit-real.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "== bench gateway --n $N (three runs and two warm-ups of 50 messages)"
start=$(date +%s)
TMPDIR=$work "$mlagw" bench gateway --n "$N" --rsa-bits 2048 --keep \
	--mlagwd "$PWD/build/gateway/mlagwd" | tee "$work/bench.txt" | grep -E '^(full|paced|A |B )'
echo "   generated in $(( $(date +%s) - start )) s"
kept=$(sed -n 's/^kept: \([^ ]*\).*/\1/p' "$work/bench.txt")
mkdir "$work/trust"
cp "$kept/pki/ES/root.crt" "$work/trust/ES.crt"
cp "$kept/pki/CO/root.crt" "$work/trust/CO.crt"
status=0
for side in A:ES B:CO; do
	s=${side%%:*}; st=${side##*:}
	echo "== $s ($st): store $(du -h "$kept/$s.db" | cut -f1)"
	/usr/bin/time -f '   export: %e s, peak RSS %M KiB' "$mlagw" audit export \
		--store "$kept/$s.db" --cert "$kept/pki/$st/audit.crt" --out "$work/$s.bundle"
	echo "   bundle: $(du -h "$work/$s.bundle" | cut -f1)"
	rm -f "$kept/$s.db" "$kept/$s.db-wal" "$kept/$s.db-shm" # room for the verifier's runs
	set +e
	TMPDIR=$work /usr/bin/time -f '   verify: %e s (user %U s), peak RSS %M KiB (bound: 262144 KiB at 10M entries)' \
		"$mlagw" audit verify "$work/$s.bundle" --trust "$work/trust" --json >"$work/$s.json"
	rc=$?
	set -e
	python3 - "$work/$s.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
c = r['checks']
print('   verified: %s; entries %s, envelopes ok %d, receipts ok %d, failures %d' % (
    r['verified'], r['entries'], c['envelopes']['ok'], c['receipts']['ok'],
    len(r['failures'])))
PY
	[ "$rc" -eq 0 ] || status=$rc
	rm -f "$work/$s.bundle"
done
exit "$status"
