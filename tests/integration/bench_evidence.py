"""The bounded CI run of the evidence benchmark (issue 15 part 6; the 1 GiB and 4 GiB runs are
by hand): mlagw bench evidence --size 8M starts two gateways (A = ES, B = CO), uploads an 8 MiB
file to A, submits it to CO, waits for A's verified receipt version 3 and downloads it at B
with its SHA-256 checked. Asserted: the run completes (exit 0), prints every figure line (no
speed is asserted), its --json form has every figure, nothing is left in its directory, and a
gateway that cannot start is a non-zero exit with a message naming its log."""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

mlagw, mlagwd = sys.argv[1], sys.argv[2]
tmp = tempfile.mkdtemp(prefix='bench-evidence-')
env = dict(os.environ, TMPDIR=tmp)


def bench(*args, rc=0):
    if '--mlagwd' not in args:
        args += ('--mlagwd', mlagwd)
    p = subprocess.run([mlagw, 'bench', 'evidence'] + list(args), capture_output=True,
                       text=True, timeout=300, env=env)
    assert p.returncode == rc if rc == 0 else p.returncode != 0, (p.returncode, p.stdout,
                                                                   p.stderr)
    return p


try:
    out = bench('--size', '8M', '--download').stdout
    print(out)
    for line in ('attachment of 8388608 bytes, two gateways', '  upload ', '  seal+store ',
                 '  transfer+receipt ', '  download at B ', '  end to end ',
                 "A's verified receipt, version 3", '  bound ', '% of the bound (target at least',
                 '  peak RSS           A ', '  pipeline bound ',
                 '(per byte 5 AES-256-GCM + 3 SHA-256 + 3 fsynced writes, on ',
                 '% of the pipeline bound', '  CPU time           A ', '  order ceiling ',
                 '(the file fsynced whole at A before the envelope signs its root, then at B',
                 '% of the order ceiling'):
        assert line in out, (line, out)
    assert out.count('MB/s') >= 7, out
    assert glob.glob(os.path.join(tmp, '*')) == [], os.listdir(tmp)  # stores, PKI, files gone

    r = json.loads(bench('--size', '100000', '--json').stdout)
    print(r)
    assert r['size'] == 100000 and r['gateways'] == 2, r
    for k in ('upload_mbps', 'seal_mbps', 'transfer_mbps', 'end_to_end_mbps', 'bound_mbps',
              'aes_gcm_mbps', 'sha256_mbps', 'disk_mbps', 'ratio', 'cores', 'path_bound_mbps',
              'path_ratio', 'order_ceiling_mbps', 'order_ratio'):
        assert r[k] > 0, (k, r)
    # the pipeline bound: 5 AES-GCM, 3 SHA-256 and 3 disk writes a byte, on every core
    per_mb = 5 / r['aes_gcm_mbps'] + 3 / r['sha256_mbps'] + 3 / r['disk_mbps']
    assert abs(r['path_bound_mbps'] - r['cores'] / per_mb) <= 0.1 + 1e-3 * r['path_bound_mbps'], r
    assert r['path_bound_mbps'] < r['cores'] * r['bound_mbps'], r
    # the order ceiling: two whole writes one after the other at the disk's rate
    assert abs(r['order_ceiling_mbps'] - r['disk_mbps'] / 2) <= 0.1, r
    assert abs(r['order_ratio'] - r['end_to_end_mbps'] / r['order_ceiling_mbps']) <= 2e-3 + \
        0.01 * r['order_ratio'], r
    assert len(r['peak_rss_kib']) == 2 and min(r['peak_rss_kib']) > 0, r
    assert len(r['cpu_s']) == 2 and min(r['cpu_s']) > 0, r

    p = bench('--size', '1M', '--mlagwd', '/bin/false', rc=1)
    assert 'exited at start-up' in p.stderr and '.log' in p.stderr, p.stderr
    p = bench('--size', '1Q', rc=1)
    assert '--size' in p.stderr, p.stderr
    print('bench evidence: two gateways, 8 MiB end to end, figures printed')
finally:
    shutil.rmtree(tmp, ignore_errors=True)
