#!/usr/bin/env bash
# Reproducer (attack review): the verifier's memory grows ~126 bytes per tiny record of a type
# the one-pass index keeps (proof, checkpoint, witnessed) or lists (envelope, receipt), with
# no limit but the format's: format 4 allows 10^10 records and 16 TiB, so a hostile bundle
# makes `mlagw audit verify` use ~6.6x its own size in RAM (1.5 GB for a 229 MB file of 12M
# empty proofs; format 2/3 stop at 4M records). Usage: bundle_kept_records_rss.sh BUILD N [TYPE]
set -eu
build=${1:-build}; n=${2:-12000000}; type=${3:-proof}
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
"$build/cli/mlagw" pki init --state ES --out "$dir/pki" >/dev/null
mkdir "$dir/trust"; cp "$dir/pki/ES/root.crt" "$dir/trust/ES.crt"
python3 - "$n" "$type" "$dir/b.mab" <<'PY'
import sys
n, typ, out = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3]
with open(out, 'wb') as f:
    f.write(b'mlagw-audit-bundle/4\nmanifest manifest 2\n{}\ncertificate audit 0\n\n')
    for k in range(0, n, 100000):
        f.write(b''.join(b'%s c.%d 0\n\n' % (typ, i) for i in range(k, min(n, k + 100000))))
PY
ls -l "$dir/b.mab"
/usr/bin/time -v "$build/cli/mlagw" audit verify "$dir/b.mab" --trust "$dir/trust" \
  >"$dir/out" 2>"$dir/time" || true
grep -E "Maximum resident|Elapsed" "$dir/time"
tail -1 "$dir/out"
