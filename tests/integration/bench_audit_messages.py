"""The verifier's memory does not grow with the messages of a real bundle (issue 12): mlagw
bench gateway sends N envelopes from A (ES) to B (CO), at two sizes; each State's store is
exported, and mlagw audit verify's peak RSS on the bundle of the larger run must stay within a
small fixed bound of the smaller's (a memory slope, not a timing). The verifier joins entries,
envelopes and receipts by message in a sort on disk (SPEC 15 "Verifier memory"); its runs in
memory are made small here (MLAGW_VERIFY_SORT_MEM, 64 KiB) so that both sizes spill to disk and
what is left is what grows per message: before the sort, some 780 bytes a message (1.2 MiB more
at the larger size), now nothing beyond the RSS's noise (some 300 KiB). Each bundle is also
verified with the default runs (16 MiB) and its figure printed. mlagw audit reconcile of the
two bundles is held to the same bound: it keeps each side's compared entries as rows of the
same sort (before, 160 bytes each in memory: four a message, some 2.2 MiB more at the larger
size). mlagw audit export is held to it too, on its peak RSS above the export of the same
store's log alone (a --case of none: reading a larger store costs some 1 MiB more whatever the
messages, SQLite's cache filling): it sorts the entries naming messages on disk (SPEC 15
"Export memory"; before, some 140 to 230 bytes a message in memory, only some 0.5 MiB at these
sizes, within the bound: 125 MiB at 500,050 messages is what it prevents), and its bundle with
runs of 64 KiB must be the same, byte for byte, as with the default runs. Under a sanitizer
the memory figures are the sanitizer's: the runs are checked, not the bound."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SIZES = (117, 1317)  # per run of bench gateway: three runs and two warm-ups of 50, i.e. 451 and 4,051 messages
SLOPE_BOUND_KIB = 1024  # verifier peak RSS, larger run above the smaller
SORT_MEM = 65536  # MLAGW_VERIFY_SORT_MEM for the slope: both sizes spill to disk
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


def verify(mlagw, bundle, trust, env):
    """The verify report of bundle (which must verify) and the verifier's peak RSS in KiB."""
    rc, out, err, rss = measured([mlagw, 'audit', 'verify', bundle, '--trust', trust,
                                  '--json'], env)
    assert rc == 0, (rc, out[-2000:], err)
    return json.loads(out), rss


def reconcile(mlagw, a, b, msgs, env):
    """The reconcile report of bundles a and b (every message matched) and its peak RSS."""
    rc, out, err, rss = measured([mlagw, 'audit', 'reconcile', a, b, '--json'], env)
    assert rc == 0, (rc, out[-2000:], err)
    rep = json.loads(out)
    assert rep['reconciled'] and rep['exchanges'] == msgs and rep['problems'] == [], rep
    assert rep['directions'][0]['matched'] == msgs, rep['directions']
    return rss


def run_size(mlagw, mlagwd, n, tmp, env):
    """bench gateway with n messages a run; for each State its verify figures:
    (side, messages, peak RSS KiB with small runs, with the default runs), then reconcile's
    of both bundles."""
    p = subprocess.run([mlagw, 'bench', 'gateway', '--n', str(n), '--rsa-bits', '2048',
                        '--pairs', '1', '--keep', '--mlagwd', mlagwd],
                       capture_output=True, text=True, timeout=900, env=env)
    assert p.returncode == 0, (p.returncode, p.stdout[-3000:], p.stderr[-3000:])
    m = re.search(r'^kept: (\S+)', p.stdout, re.M)
    assert m, p.stdout[-3000:]
    d = m.group(1)
    trust = os.path.join(tmp, 'trust%d' % n)
    os.mkdir(trust)
    for st in ('ES', 'CO'):
        shutil.copy(os.path.join(d, 'pki', st, 'root.crt'), os.path.join(trust, st + '.crt'))
    out = []
    for side, st in (('A', 'ES'), ('B', 'CO')):
        store = os.path.join(d, side + '.db')
        cert = os.path.join(d, 'pki', st, 'audit.crt')
        whole = os.path.join(tmp, '%s%d.bundle' % (side, n))
        small_runs = dict(env, MLAGW_VERIFY_SORT_MEM=str(SORT_MEM))
        xrss = []  # small runs, default runs, the log alone (small runs)
        for out_file, xenv, extra in ((whole, small_runs, []), (whole + '.default', env, []),
                                      (whole + '.log', small_runs, ['--case', 'NONE/0'])):
            rc, xout, xerr, rss = measured([mlagw, 'audit', 'export', '--store', store,
                                            '--cert', cert, '--out', out_file] + extra, xenv)
            assert rc == 0, (rc, xout, xerr)
            xrss.append(rss)
        with open(whole, 'rb') as f1, open(whole + '.default', 'rb') as f2:
            assert f1.read() == f2.read(), 'export differs with the default runs'
        os.unlink(whole + '.default')
        os.unlink(whole + '.log')
        rep, rss = verify(mlagw, whole, trust, dict(env, MLAGW_VERIFY_SORT_MEM=str(SORT_MEM)))
        rep_d, rss_d = verify(mlagw, whole, trust, env)
        assert rep['checks'] == rep_d['checks'], (rep, rep_d)
        msgs = rep['checks']['receipts']['ok']
        # every message sent, warm-ups included, was receipted: A holds its envelope and B's
        # receipt, B the envelope it received and the receipt it issued (bench gateway with
        # one pair runs a warm-up and a full run without the keyholder, then a warm-up, a
        # full and a paced run with it)
        assert msgs == 3 * n + 100, rep['checks']
        assert rep['checks']['envelopes']['ok'] == msgs, rep['checks']
        assert rep['checks']['delivered']['failed'] == 0, rep['checks']
        print('%s (%s): %d messages, verify peak RSS %d KiB (runs of %d bytes), %d KiB '
              '(default runs)' % (side, st, msgs, rss, SORT_MEM, rss_d))
        out.append((side, msgs, rss, rss_d))
        print('export %s: %d messages, peak RSS %d KiB (runs of %d bytes), %d KiB (default '
              'runs), %d KiB (the log alone)' % (side, msgs, xrss[0], SORT_MEM, xrss[1],
                                                 xrss[2]))
        out.append(('export ' + side + ' above the log alone', msgs, xrss[0] - xrss[2],
                    xrss[1]))
    a, b = (os.path.join(tmp, '%s%d.bundle' % (side, n)) for side in ('A', 'B'))
    rss = reconcile(mlagw, a, b, msgs, dict(env, MLAGW_VERIFY_SORT_MEM=str(SORT_MEM)))
    rss_d = reconcile(mlagw, a, b, msgs, env)
    print('reconcile A B: %d messages, peak RSS %d KiB (runs of %d bytes), %d KiB (default '
          'runs)' % (msgs, rss, SORT_MEM, rss_d))
    out.append(('reconcile', msgs, rss, rss_d))
    shutil.rmtree(d, ignore_errors=True)
    return out


mlagw, mlagwd = sys.argv[1], sys.argv[2]
sanitized = os.environ.get('MLAGW_SANITIZE', 'none') not in ('', 'none')
sizes = (20, 60) if sanitized else SIZES
tmp = tempfile.mkdtemp(prefix='mlagw-permsg-test.')
try:
    env = dict(os.environ, TMPDIR=tmp)
    small, large = (run_size(mlagw, mlagwd, n, tmp, env) for n in sizes)
    for (side, m0, rss0, _), (_, m1, rss1, _) in zip(small, large):
        slope = (rss1 - rss0) * 1024 / (m1 - m0)
        what = side.split()[0] if side.split()[0] in ('reconcile', 'export') else 'verify'
        print('%s: %d -> %d messages, %s peak RSS %d -> %d KiB: %+d KiB, %.0f bytes a '
              'message' % (side, m0, m1, what, rss0, rss1, rss1 - rss0, slope))
        if not sanitized:
            assert rss1 - rss0 < SLOPE_BOUND_KIB, (side, rss0, rss1, 'KiB; bound',
                                                   SLOPE_BOUND_KIB)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
if sanitized:
    print('built with -Db_sanitize=%s: memory bound not checked in this build' %
          os.environ['MLAGW_SANITIZE'])
