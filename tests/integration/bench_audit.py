"""The bounded CI version of the audit log's scale run (scripts/bench-audit-10m.sh runs ten
million entries by hand): mlagw bench audit at 100,000 entries must export a bundle that
verifies, and its memory must not grow with the log. Memory, not time, is asserted: the
streaming verifier, export and start path stay near their fixed base (about 12 MiB here),
where reading the whole bundle or holding every entry cost over 100 MiB at this size."""
import json
import os
import subprocess
import sys

MIB = 1024  # ru_maxrss is in KiB

mlagw = sys.argv[1]
p = subprocess.run([mlagw, 'bench', 'audit', '--entries', '100000', '--seconds', '0.2',
                    '--json'], capture_output=True, text=True, timeout=240)
assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
r = json.loads(p.stdout)
print(json.dumps(r, indent=1))
assert r['entries'] == 100000
assert r['verify_exit'] == 0, r
assert r['bundle_format'] == 2, r  # far below format 2's limits: the lowest format
assert r['bundle_bytes'] > 100000 * 300, r  # every entry is in it
sanitized = os.environ.get('MLAGW_SANITIZE', 'none') not in ('', 'none')
for key, bound in (('verify_peak_rss_kib', 40), ('export_peak_rss_kib', 40),
                   ('start_peak_rss_kib', 40)):
    assert r[key] > 0, key
    if sanitized:
        continue  # AddressSanitizer's shadow memory and quarantine, not ours
    assert r[key] < bound * MIB, (key, r[key] / MIB, 'MiB')
if sanitized:
    print('built with -Db_sanitize=%s: memory bounds not checked in this build' %
          os.environ['MLAGW_SANITIZE'])
print('bench audit at 100000 entries: verified; verify %.1f MiB, export %.1f MiB, start '
      '%.1f MiB peak RSS' % (r['verify_peak_rss_kib'] / MIB, r['export_peak_rss_kib'] / MIB,
                             r['start_peak_rss_kib'] / MIB))
