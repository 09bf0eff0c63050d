"""The verifier's memory does not grow with a bundle's checkpoints (issue 12, checkpoint-dense
bundles): mlagw bench audit with a checkpoint per entry exports a bundle of CHECKPOINTS
checkpoints (and as many consistency proofs) that must verify within the same fixed bound as
a log-only bundle. Before, the verifier kept about 1 KiB per checkpoint (an index slot, the
opened checkpoint, its roots, its head): 116 MiB at 100,000 checkpoints, 1 GiB at a million.
Then, on the bundle kept: mlagw audit verify with an unusable TMPDIR (the verifier keeps what
it learns of each checkpoint in a temporary file) stops with exit 3, not a verdict, and
mlagw audit reconcile reads the bundle from its file in bounded memory too.
Under a sanitizer the memory figures are the sanitizer's: the runs are checked, not the bounds."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

MIB = 1024  # ru_maxrss is in KiB
CHECKPOINTS = 100000
BOUND_MIB = 40
# runs a command and prints the peak RSS of its process tree (KiB) last
MEASURE = ('import resource, subprocess, sys\n'
           'p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n'
           'sys.stdout.write(p.stdout)\nsys.stderr.write(p.stderr)\n'
           'print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n'
           'sys.exit(p.returncode)\n')


def measured(args, env):
    """The command's exit status, stdout (without the figure), stderr and peak RSS in KiB."""
    p = subprocess.run([sys.executable, '-c', MEASURE] + args, capture_output=True, text=True,
                       timeout=900, env=env)
    out, _, rss = p.stdout.rstrip('\n').rpartition('\n')
    return p.returncode, out, p.stderr, int(rss)

mlagw = sys.argv[1]
sanitized = os.environ.get('MLAGW_SANITIZE', 'none') not in ('', 'none')
if sanitized:  # the bounds are not checked there: a tenth of the run checks the same code
    CHECKPOINTS //= 10
tmp = tempfile.mkdtemp(prefix='mlagw-ckpt-test.')
try:
    env = dict(os.environ, TMPDIR=tmp, MLAGW_BENCH_KEEP='1')
    p = subprocess.run([mlagw, 'bench', 'audit', '--entries', str(CHECKPOINTS),
                        '--checkpoint-every', '1', '--seconds', '0.2', '--json'],
                       capture_output=True, text=True, timeout=900, env=env)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    r = json.loads(p.stdout)
    print(json.dumps(r, indent=1))
    assert r['entries'] == CHECKPOINTS
    assert r['verify_exit'] == 0, r
    kept = [d for d in os.listdir(tmp) if d.startswith('mlagw-bench-audit.')]
    assert len(kept) == 1, kept
    d = os.path.join(tmp, kept[0])
    bundle, trust = os.path.join(d, 'audit.bundle'), os.path.join(d, 'trust')
    # a checkpoint per entry: the bundle holds them all (the manifest's counts)
    rc, out, err, vrss = measured([mlagw, 'audit', 'verify', bundle, '--trust', trust,
                                   '--json'], env)
    assert rc == 0, (rc, out[-2000:], err)
    rep = json.loads(out)
    assert rep['checks']['checkpoints']['ok'] == CHECKPOINTS, rep['checks']
    assert rep['checks']['tree']['ok'] == CHECKPOINTS, rep['checks']
    assert rep['checks']['proofs']['ok'] == CHECKPOINTS - 1, rep['checks']
    if not sanitized:
        assert r['verify_peak_rss_kib'] < BOUND_MIB * MIB, (r['verify_peak_rss_kib'] / MIB,
                                                            'MiB')
        assert vrss < BOUND_MIB * MIB, (vrss / MIB, 'MiB for verify --json')
    # the temporary file cannot be made: an error, exit 3, and no verdict
    bad = dict(env, TMPDIR=os.path.join(tmp, 'missing'))
    v = subprocess.run([mlagw, 'audit', 'verify', bundle, '--trust', trust],
                       capture_output=True, text=True, timeout=900, env=bad)
    assert v.returncode == 3, (v.returncode, v.stdout[-2000:], v.stderr)
    assert 'temporary file' in v.stderr, v.stderr
    assert 'verified' not in v.stdout, v.stdout
    # reconcile reads the bundle from its file: one State twice is a usage error, after both
    # sides were read (so the read itself is measured; without --trust: verify was above)
    rc, out, err, crss = measured([mlagw, 'audit', 'reconcile', bundle, bundle], env)
    assert rc == 2, (rc, out, err)
    assert 'both bundles are State' in err, err
    # reconciliation keeps what it compares of each message's entries (160 bytes each; every
    # synthetic entry names a message) and nothing of the bundle else: before, both bundles
    # whole (117 MB each here) and 700 bytes per parsed entry
    if not sanitized:
        bound = BOUND_MIB * MIB + 2 * CHECKPOINTS * 256 // 1024
        assert crss < bound, (crss / MIB, 'MiB for reconcile, bound', bound / MIB)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
if sanitized:
    print('built with -Db_sanitize=%s: memory bounds not checked in this build' %
          os.environ['MLAGW_SANITIZE'])
print('bench audit with %d checkpoints: verified in %.1f MiB peak RSS (bound %d MiB); '
      'reconcile read both sides in %.1f MiB' % (CHECKPOINTS, r['verify_peak_rss_kib'] / MIB,
                                               BOUND_MIB, crss / MIB))
